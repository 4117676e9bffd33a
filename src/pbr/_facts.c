/* pbr._facts: the family's cross-field check over a compiled record's facts, in one pass.
 *
 * pbr._record_checks.plainly_consistent checks, in Python, that each member is listed once,
 * that every event, spell and school-term row names a member born by its date, that no spell
 * ends before it starts, that no row has more unauthorised absences than possible sessions and
 * that no child's term is given twice. For a 5.5 KB record that is about 75,000 instructions,
 * most of them the interpreter reading attributes; read here from the parts' slots directly,
 * about a tenth of that.
 *
 * proved(family, earliest_term_end) answers True only when it has proved all of that, and
 * that the family's and each member's id match pbr.records.Identifier's pattern, for a
 * compiled record (pbr._compiled's msgspec Structs, whose slot offsets `learn` read from their
 * member descriptors): every part of the exact type learned, every value of the exact type the
 * Struct declares. It answers False whenever it cannot: a problem found, a part or value of
 * another type, a year not in `earliest_term_end` (the earliest end of each academic year's
 * terms, a dict pbr._record_checks fills), or a child born after it. False means "not proved":
 * the caller then checks in Python, which decides (tests/test_facts.py holds the two to the
 * same answer). The checks of entry problems, observations' indicators and payments stay in
 * Python: few records have any.
 *
 * tally(rows) sums a child's school-term rows as pbr.programmes.phase_one._evidence.tally does
 * (possible sessions, unauthorised absences, fixed-term exclusions; whether any is a permanent
 * exclusion, alternative provision or off roll), reading the slots of compiled rows: the rules
 * sum a family's rows three times, and reading each row's six values by name was most of it.
 * It answers None for anything else (a row of another type, a value not exactly an int or a
 * bool, a sum beyond a machine word): the caller then sums in Python (tests/test_facts.py).
 *
 * Built for one CPython version (it reads the member descriptors' offsets, which the limited
 * API hides); optional, as the rest of pbr's C.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <datetime.h>
#include <stdlib.h>
#include <string.h>

enum { MEMBER, OFFENCE, ASB, TERM_ROW, BENEFIT, EMPLOYMENT, REFERRAL, OBSERVATION, FAMILY, KINDS };

static PyTypeObject *kinds[KINDS];

/* Slot offsets, learned from each Struct's member descriptors. */
typedef struct {
    Py_ssize_t member_person_id, member_date_of_birth;
    Py_ssize_t dated_person_id[KINDS], dated_date[KINDS]; /* OFFENCE, ASB, REFERRAL, OBSERVATION */
    Py_ssize_t spell_person_id[KINDS], spell_start[KINDS], spell_end[KINDS]; /* the spells */
    Py_ssize_t row_person_id, row_academic_year, row_term, row_possible, row_unauthorised;
    Py_ssize_t row_fixed, row_permanent, row_alternative, row_on_roll;
    Py_ssize_t family_id, members, offences, asb, terms, benefits, employment, referrals,
        observations;
} Offsets;

static Offsets at;
static int learned = 0;

static int
offset_of(PyTypeObject *kind, const char *name, Py_ssize_t *offset)
{
    PyObject *descr = PyObject_GetAttrString((PyObject *)kind, name);
    if (descr == NULL)
        return -1;
    if (!Py_IS_TYPE(descr, &PyMemberDescr_Type)) {
        PyErr_Format(PyExc_TypeError, "%s.%s is not a slot", kind->tp_name, name);
        Py_DECREF(descr);
        return -1;
    }
    PyMemberDef *member = ((PyMemberDescrObject *)descr)->d_member;
    if (member->type != T_OBJECT_EX && member->type != T_OBJECT) {
        PyErr_Format(PyExc_TypeError, "%s.%s does not hold an object", kind->tp_name, name);
        Py_DECREF(descr);
        return -1;
    }
    *offset = member->offset;
    Py_DECREF(descr);
    return 0;
}

/* The types and offsets are kept only when every one was found: a failed call changes nothing. */
static PyObject *
learn(PyObject *module, PyObject *args)
{
    PyTypeObject *given[KINDS];
    Offsets found;
    if (!PyArg_ParseTuple(args, "O!O!O!O!O!O!O!O!O!:learn", &PyType_Type, &given[FAMILY],
                          &PyType_Type, &given[MEMBER], &PyType_Type, &given[OFFENCE],
                          &PyType_Type, &given[ASB], &PyType_Type, &given[TERM_ROW],
                          &PyType_Type, &given[BENEFIT], &PyType_Type, &given[EMPLOYMENT],
                          &PyType_Type, &given[REFERRAL], &PyType_Type, &given[OBSERVATION]))
        return NULL;
    for (int k = 0; k < KINDS; k++) {
        if (given[k]->tp_getattro != PyObject_GenericGetAttr) {
            /* a class that computes its attributes: its slots may not be what it answers */
            PyErr_Format(PyExc_TypeError, "%s is not a plain slotted type", given[k]->tp_name);
            return NULL;
        }
    }
    if (offset_of(given[MEMBER], "person_id", &found.member_person_id) < 0 ||
        offset_of(given[MEMBER], "date_of_birth", &found.member_date_of_birth) < 0 ||
        offset_of(given[TERM_ROW], "person_id", &found.row_person_id) < 0 ||
        offset_of(given[TERM_ROW], "academic_year", &found.row_academic_year) < 0 ||
        offset_of(given[TERM_ROW], "term", &found.row_term) < 0 ||
        offset_of(given[TERM_ROW], "possible_sessions", &found.row_possible) < 0 ||
        offset_of(given[TERM_ROW], "unauthorised_absences", &found.row_unauthorised) < 0 ||
        offset_of(given[TERM_ROW], "fixed_term_exclusions", &found.row_fixed) < 0 ||
        offset_of(given[TERM_ROW], "permanently_excluded", &found.row_permanent) < 0 ||
        offset_of(given[TERM_ROW], "alternative_provision", &found.row_alternative) < 0 ||
        offset_of(given[TERM_ROW], "on_roll", &found.row_on_roll) < 0 ||
        offset_of(given[FAMILY], "family_id", &found.family_id) < 0 ||
        offset_of(given[FAMILY], "members", &found.members) < 0 ||
        offset_of(given[FAMILY], "offences", &found.offences) < 0 ||
        offset_of(given[FAMILY], "asb_incidents", &found.asb) < 0 ||
        offset_of(given[FAMILY], "school_terms", &found.terms) < 0 ||
        offset_of(given[FAMILY], "benefit_spells", &found.benefits) < 0 ||
        offset_of(given[FAMILY], "employment_spells", &found.employment) < 0 ||
        offset_of(given[FAMILY], "work_programme", &found.referrals) < 0 ||
        offset_of(given[FAMILY], "observations", &found.observations) < 0)
        return NULL;
    const int dated[] = {OFFENCE, ASB, REFERRAL, OBSERVATION};
    for (int i = 0; i < 4; i++) {
        int k = dated[i];
        if (offset_of(given[k], "person_id", &found.dated_person_id[k]) < 0 ||
            offset_of(given[k], "date", &found.dated_date[k]) < 0)
            return NULL;
    }
    const int spells[] = {BENEFIT, EMPLOYMENT};
    for (int i = 0; i < 2; i++) {
        int k = spells[i];
        if (offset_of(given[k], "person_id", &found.spell_person_id[k]) < 0 ||
            offset_of(given[k], "start", &found.spell_start[k]) < 0 ||
            offset_of(given[k], "end", &found.spell_end[k]) < 0)
            return NULL;
    }
    for (int k = 0; k < KINDS; k++) {
        Py_INCREF(given[k]);
        Py_XSETREF(kinds[k], given[k]);
    }
    at = found;
    learned = 1;
    Py_RETURN_NONE;
}

#define SLOT(object, offset) (*(PyObject **)((char *)(object) + (offset)))

/* A date as one number that orders as the date does; -1 if `value` is not exactly a date. */
static long
day_of(PyObject *value)
{
    if (value == NULL || !PyDate_CheckExact(value))
        return -1;
    return (long)PyDateTime_GET_YEAR(value) * 512 + PyDateTime_GET_MONTH(value) * 32 +
           PyDateTime_GET_DAY(value);
}

/* The parts of the family's list at `offset`, each of type kinds[kind]; NULL if not so. */
static PyObject *
parts_of(PyObject *family, Py_ssize_t offset, int kind)
{
    PyObject *parts = SLOT(family, offset);
    if (parts == NULL || !PyTuple_CheckExact(parts))
        return NULL;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(parts); i++) {
        if (!Py_IS_TYPE(PyTuple_GET_ITEM(parts, i), kinds[kind]))
            return NULL;
    }
    return parts;
}

/* The members, and each one's index by person_id (a dict): what the facts are checked against. */
typedef struct {
    PyObject *members;
    PyObject *index;
} Household;

/* The index of the member `person_id` names; -1 if none (or not a str), -2 on an error. */
static Py_ssize_t
member_named(Household *household, PyObject *person_id)
{
    if (person_id == NULL || !PyUnicode_CheckExact(person_id))
        return -1;
    PyObject *found = PyDict_GetItemWithError(household->index, person_id);
    if (found == NULL)
        return PyErr_Occurred() ? -2 : -1;
    return PyLong_AsSsize_t(found);
}

/* The date of birth of member `i`, as `day_of`. */
static long
birth_of(Household *household, Py_ssize_t i)
{
    return day_of(SLOT(PyTuple_GET_ITEM(household->members, i), at.member_date_of_birth));
}

/* The date of birth of the member `person_id` names, as `day_of`; -1 if none, -2 on an error. */
static long
born_on(Household *household, PyObject *person_id)
{
    Py_ssize_t i = member_named(household, person_id);
    return i < 0 ? (long)i : birth_of(household, i);
}

/* 1 when every part of the list at `offset` names a member born by its date (a part naming
 * no one, None, passes where `nobody` is set); 0 when not proved; -1 on an error. */
static int
dated_facts(PyObject *family, Household *household, Py_ssize_t offset, int kind, int nobody)
{
    PyObject *parts = parts_of(family, offset, kind);
    if (parts == NULL)
        return 0;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(parts); i++) {
        PyObject *part = PyTuple_GET_ITEM(parts, i);
        PyObject *person_id = SLOT(part, at.dated_person_id[kind]);
        if (nobody && person_id == Py_None)
            continue;
        long dob = born_on(household, person_id);
        if (dob < 0)
            return dob == -2 ? -1 : 0;
        long when = day_of(SLOT(part, at.dated_date[kind]));
        if (when < 0 || dob > when)
            return 0;
    }
    return 1;
}

static int
spells(PyObject *family, Household *household, Py_ssize_t offset, int kind)
{
    PyObject *parts = parts_of(family, offset, kind);
    if (parts == NULL)
        return 0;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(parts); i++) {
        PyObject *part = PyTuple_GET_ITEM(parts, i);
        long dob = born_on(household, SLOT(part, at.spell_person_id[kind]));
        if (dob < 0)
            return dob == -2 ? -1 : 0;
        long start = day_of(SLOT(part, at.spell_start[kind]));
        if (start < 0 || dob > start)
            return 0;
        PyObject *end = SLOT(part, at.spell_end[kind]);
        if (end != Py_None) {
            long until = day_of(end);
            if (until < 0 || until < start)
                return 0;
        }
    }
    return 1;
}

/* An academic year's first year less 1900 ("2012/13" -> 112), a term's number (autumn 0,
 * spring 1, summer 2); -1 when the text is not one (then the check proves nothing). */
static long
year_number(PyObject *year)
{
    if (PyUnicode_GET_LENGTH(year) != 7 || PyUnicode_KIND(year) != PyUnicode_1BYTE_KIND)
        return -1;
    const Py_UCS1 *text = PyUnicode_1BYTE_DATA(year);
    long number = 0;
    for (int i = 0; i < 4; i++) {
        if (text[i] < '0' || text[i] > '9')
            return -1;
        number = number * 10 + (text[i] - '0');
    }
    return number >= 1900 && number < 2100 ? number - 1900 : -1;
}

static long
term_number(PyObject *term)
{
    if (PyUnicode_GET_LENGTH(term) != 6 || PyUnicode_KIND(term) != PyUnicode_1BYTE_KIND)
        return -1;
    const char *text = (const char *)PyUnicode_1BYTE_DATA(term);
    if (memcmp(text, "autumn", 6) == 0)
        return 0;
    if (memcmp(text, "spring", 6) == 0)
        return 1;
    if (memcmp(text, "summer", 6) == 0)
        return 2;
    return -1;
}

static int
ascending(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

#define FEW_ROWS 64

static int
school_terms(PyObject *family, Household *household, PyObject *earliest)
{
    PyObject *rows = parts_of(family, at.terms, TERM_ROW);
    if (rows == NULL)
        return 0;
    Py_ssize_t n = PyTuple_GET_SIZE(rows);
    if (n == 0)
        return 1;
    /* each row's slot, (child, year, term) as one number: sorted, a term given twice is two
     * equal neighbours */
    long long few[FEW_ROWS];
    long long *slots = n <= FEW_ROWS ? few : PyMem_Malloc(n * sizeof(long long));
    if (slots == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    int answer = 1;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *row = PyTuple_GET_ITEM(rows, i);
        PyObject *possible = SLOT(row, at.row_possible);
        PyObject *unauthorised = SLOT(row, at.row_unauthorised);
        PyObject *year = SLOT(row, at.row_academic_year);
        PyObject *term = SLOT(row, at.row_term);
        if (possible == NULL || unauthorised == NULL || !PyLong_CheckExact(possible) ||
            !PyLong_CheckExact(unauthorised) || year == NULL || !PyUnicode_CheckExact(year) ||
            term == NULL || !PyUnicode_CheckExact(term)) {
            answer = 0;
            break;
        }
        int more = PyObject_RichCompareBool(unauthorised, possible, Py_GT);
        if (more != 0) {
            answer = more < 0 ? -1 : 0;
            break;
        }
        Py_ssize_t child = member_named(household, SLOT(row, at.row_person_id));
        long year_at = year_number(year), term_at = term_number(term);
        if (child < 0 || year_at < 0 || term_at < 0) {
            answer = child == -2 ? -1 : 0;
            break;
        }
        PyObject *end = PyDict_GetItemWithError(earliest, year);
        long last = day_of(end); /* a year not yet seen, or with no date: Python decides */
        if (last < 0 || birth_of(household, child) > last) {
            answer = PyErr_Occurred() ? -1 : 0;
            break;
        }
        slots[i] = ((long long)child * 256 + year_at) * 4 + term_at;
    }
    if (answer == 1) {
        qsort(slots, (size_t)n, sizeof(long long), ascending);
        for (Py_ssize_t i = 1; i < n; i++) {
            if (slots[i] == slots[i - 1]) {
                answer = 0; /* a child's term given twice */
                break;
            }
        }
    }
    if (slots != few)
        PyMem_Free(slots);
    return answer;
}

/* Whether `text` (a str) matches pbr.records.Identifier's pattern, [A-Za-z0-9._-]{1,64}:
 * the family's and each member's id (pbr._compiled._identifier matches it in Python). */
static int
identifier(PyObject *text)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    if (n < 1 || n > 64 || !PyUnicode_IS_ASCII(text))
        return 0;
    const Py_UCS1 *at = PyUnicode_1BYTE_DATA(text);
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS1 c = at[i];
        if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

static PyObject *
proved(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyDict_CheckExact(args[1])) {
        PyErr_SetString(PyExc_TypeError, "proved(family, earliest_term_end: dict)");
        return NULL;
    }
    PyObject *family = args[0], *earliest = args[1];
    if (!learned || !Py_IS_TYPE(family, kinds[FAMILY]))
        Py_RETURN_FALSE;
    PyObject *family_id = SLOT(family, at.family_id);
    if (family_id == NULL || !PyUnicode_CheckExact(family_id) || !identifier(family_id))
        Py_RETURN_FALSE;
    Household household = {parts_of(family, at.members, MEMBER), NULL};
    if (household.members == NULL)
        Py_RETURN_FALSE;
    household.index = PyDict_New();
    if (household.index == NULL)
        return NULL;
    int answer = 1;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(household.members) && answer == 1; i++) {
        PyObject *member = PyTuple_GET_ITEM(household.members, i);
        PyObject *person_id = SLOT(member, at.member_person_id);
        if (person_id == NULL || !PyUnicode_CheckExact(person_id) || !identifier(person_id) ||
            birth_of(&household, i) < 0) {
            answer = 0;
            break;
        }
        int listed = PyDict_Contains(household.index, person_id);
        if (listed != 0) { /* a member listed twice */
            answer = listed < 0 ? -1 : 0;
            break;
        }
        PyObject *number = PyLong_FromSsize_t(i);
        if (number == NULL || PyDict_SetItem(household.index, person_id, number) < 0)
            answer = -1;
        Py_XDECREF(number);
    }
    if (answer == 1)
        answer = dated_facts(family, &household, at.offences, OFFENCE, 0);
    if (answer == 1)
        answer = dated_facts(family, &household, at.referrals, REFERRAL, 0);
    if (answer == 1)
        answer = dated_facts(family, &household, at.asb, ASB, 1);
    if (answer == 1)
        answer = dated_facts(family, &household, at.observations, OBSERVATION, 1);
    if (answer == 1)
        answer = spells(family, &household, at.benefits, BENEFIT);
    if (answer == 1)
        answer = spells(family, &household, at.employment, EMPLOYMENT);
    if (answer == 1)
        answer = school_terms(family, &household, earliest);
    Py_DECREF(household.index);
    if (answer < 0)
        return NULL;
    return PyBool_FromLong(answer);
}

/* `value` added to `*sum` when it is exactly an int and the sum fits a machine word; 0 if not. */
static int
added(PyObject *value, long long *sum)
{
    if (value == NULL || !PyLong_CheckExact(value))
        return 0;
    int overflow = 0;
    long long number = PyLong_AsLongLongAndOverflow(value, &overflow);
    if (overflow || (number == -1 && PyErr_Occurred())) {
        PyErr_Clear();
        return 0;
    }
    return !__builtin_add_overflow(*sum, number, sum);
}

/* Whether the flag is set: 1 or 0 when `value` is exactly True or False; -1 if not a bool. */
static int
flag(PyObject *value)
{
    return value == Py_True ? 1 : value == Py_False ? 0 : -1;
}

static PyObject *
tally(PyObject *module, PyObject *rows)
{
    if (!learned || !PyList_CheckExact(rows))
        Py_RETURN_NONE;
    long long possible = 0, unauthorised = 0, fixed = 0;
    int permanent = 0, alternative = 0, off_roll = 0;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(rows); i++) {
        PyObject *row = PyList_GET_ITEM(rows, i);
        if (!Py_IS_TYPE(row, kinds[TERM_ROW]))
            Py_RETURN_NONE;
        int excluded = flag(SLOT(row, at.row_permanent));
        int provision = flag(SLOT(row, at.row_alternative));
        int on_roll = flag(SLOT(row, at.row_on_roll));
        if (!added(SLOT(row, at.row_possible), &possible) ||
            !added(SLOT(row, at.row_unauthorised), &unauthorised) ||
            !added(SLOT(row, at.row_fixed), &fixed) || excluded < 0 || provision < 0 ||
            on_roll < 0)
            Py_RETURN_NONE;
        permanent |= excluded;
        alternative |= provision;
        off_roll |= !on_roll;
    }
    return Py_BuildValue("(LLLNNN)", possible, unauthorised, fixed, PyBool_FromLong(permanent),
                         PyBool_FromLong(alternative), PyBool_FromLong(off_roll));
}

static PyMethodDef methods[] = {
    {"learn", learn, METH_VARARGS,
     "learn(family, member, offence, asb, term_row, benefit, employment, referral, "
     "observation): the compiled record's Struct types, whose slots `proved` reads."},
    {"proved", (PyCFunction)(void (*)(void))proved, METH_FASTCALL,
     "proved(family, earliest_term_end) -> bool: True only when the family's facts are "
     "proved consistent (see the module's docstring)."},
    {"tally", tally, METH_O,
     "tally(rows: list) -> tuple | None: compiled school-term rows summed as "
     "pbr.programmes.phase_one._evidence.tally sums them; None when it cannot."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "pbr._facts",
    .m_doc = "The family's cross-field check over a compiled record's facts, in C.",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC
PyInit__facts(void)
{
    PyDateTime_IMPORT;
    if (PyDateTimeAPI == NULL)
        return NULL;
    return PyModule_Create(&module);
}
