/* pbr._rebuild: a decision part built from field values already valid, without validating them.
 *
 * pbr.decisions builds every model of a decision this way (the trusted constructors, and a
 * parallel evaluate_many turning its workers' Structs back into models), and keeps the same in
 * Python for an install without a C compiler: both give equal models, with the same fields set
 * (tests/test_rebuild.py). Here a reason costs about 0.4 µs where the Python takes 0.7.
 *
 * model(cls, values, fields): an instance of `cls` made as object.__new__(cls) makes it (no
 * __init__), with __dict__ set to `values` (a dict, taken as it is) and pydantic's own slots set
 * as pydantic's model_construct leaves them: __pydantic_fields_set__ a new set of `fields`,
 * __pydantic_extra__ and __pydantic_private__ None. Each is set through its descriptor, as
 * object.__setattr__ sets it, so a class without such a slot raises AttributeError.
 *
 * The part, its __dict__, its fields set and the tuples and dicts among its values are then
 * taken out of the cyclic garbage collector's sight (PyObject_GC_UnTrack). A decision's parts
 * hold only text, numbers, dates and other parts, and are frozen, so they can never be in a
 * reference cycle: reference counting frees them, as it frees any object. Left in sight, each
 * decision kept alive added about 50 objects the collector rescans again and again: keeping
 * 50,000 decisions in a list took twice as long as evaluating them. (A cycle made by writing
 * into a part's dict through the back door would not be collected: nothing in pbr does that.)
 *
 * tree(spec, source): a pbr._lean Struct and the parts it holds as their models, in one call
 * (a worker's decision, back in a parallel evaluate_many's parent), as pbr.decisions._tree_here
 * builds them in Python. `spec` is (cls, names, children, fields): model(cls, {name:
 * getattr(source, name) for name in names}, fields), except that a field whose child in
 * `children` is not None is built from its value as the child says: (1, spec) a tuple of
 * parts, (2, spec) a dict of parts (its keys kept), (3, spec) one part or None (None is kept
 * as the value, and the field is then left out of those set).
 */
#define Py_LIMITED_API 0x030B0000
#define PY_SSIZE_T_CLEAN
#include <Python.h>

typedef struct {
    PyObject *dict;       /* "__dict__" */
    PyObject *fields_set; /* "__pydantic_fields_set__" */
    PyObject *extra;      /* "__pydantic_extra__" */
    PyObject *private_;   /* "__pydantic_private__" */
} names_t;

static names_t *
names_of(PyObject *module)
{
    return (names_t *)PyModule_GetState(module);
}

static PyObject *
built(PyObject *module, PyObject *cls, PyObject *values, PyObject *fields)
{
    if (!PyType_Check(cls)) {
        PyErr_SetString(PyExc_TypeError, "model: cls must be a class");
        return NULL;
    }
    if (!PyDict_Check(values)) {
        PyErr_SetString(PyExc_TypeError, "model: values must be a dict");
        return NULL;
    }
    /* only a class that object.__new__ makes (no __new__ of its own, no built-in base that needs
       one): allocated here as object.__new__ would, and nothing left uninitialised */
    if (PyType_GetSlot((PyTypeObject *)cls, Py_tp_new)
        != PyType_GetSlot(&PyBaseObject_Type, Py_tp_new)) {
        PyErr_SetString(PyExc_TypeError, "model: cls must be a class object.__new__ makes");
        return NULL;
    }
    names_t *names = names_of(module);
    allocfunc alloc = (allocfunc)PyType_GetSlot((PyTypeObject *)cls, Py_tp_alloc);
    if (alloc == NULL) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_TypeError, "model: cls cannot be allocated");
        }
        return NULL;
    }
    PyObject *part = alloc((PyTypeObject *)cls, 0);
    if (part == NULL) {
        return NULL;
    }
    PyObject *given = PySet_New(fields);
    if (given == NULL || PyObject_GenericSetAttr(part, names->dict, values) < 0
        || PyObject_GenericSetAttr(part, names->fields_set, given) < 0
        || PyObject_GenericSetAttr(part, names->extra, Py_None) < 0
        || PyObject_GenericSetAttr(part, names->private_, Py_None) < 0) {
        Py_XDECREF(given);
        Py_DECREF(part);
        return NULL;
    }
    Py_DECREF(given);
    /* out of the cyclic collector's sight, with the tuples and dicts it holds: see the top */
    PyObject *key, *value;
    Py_ssize_t at = 0;
    while (PyDict_Next(values, &at, &key, &value)) {
        if (PyTuple_CheckExact(value) || PyDict_CheckExact(value)) {
            PyObject_GC_UnTrack(value);
        }
    }
    PyObject_GC_UnTrack(given);
    PyObject_GC_UnTrack(values);
    PyObject_GC_UnTrack(part);
    return part;
}

static PyObject *
model(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "model(cls, values, fields) takes 3 arguments");
        return NULL;
    }
    return built(module, args[0], args[1], args[2]);
}

/* untrack(part, walked, leaves): `part` out of the cyclic collector's sight, with what it
   holds: a tuple and what it holds; a part whose class is exactly one of `walked` with its
   __dict__, its fields set and what its fields hold; a part whose class is exactly one of
   `leaves` with its __dict__ and fields set only (its fields hold text, numbers and dates:
   not looked at, which is most of the time saved). `walked` and `leaves` are tuples of classes
   defined in Python. Anything else (text, a number, a date, a list, a dict that is not a
   part's own) is left as it is and not looked into. For records pydantic validated
   (pbr.records): frozen, holding only text, numbers, dates and tuples of other parts, so
   never in a reference cycle. */
static int
in_classes(PyTypeObject *type, PyObject *classes)
{
    Py_ssize_t n = PyTuple_Size(classes);
    for (Py_ssize_t i = 0; i < n; i++) {
        if ((PyObject *)type == PyTuple_GetItem(classes, i)) {
            return 1;
        }
    }
    return 0;
}

static int
untrack_part(names_t *names, PyObject *part, PyObject *walked, PyObject *leaves, int depth)
{
    if (depth > 32) {
        return 0; /* deeper than any record: left tracked, which is always safe */
    }
    if (PyTuple_CheckExact(part)) {
        Py_ssize_t n = PyTuple_Size(part);
        for (Py_ssize_t i = 0; i < n; i++) {
            if (untrack_part(names, PyTuple_GetItem(part, i), walked, leaves, depth + 1) < 0) {
                return -1;
            }
        }
        PyObject_GC_UnTrack(part);
        return 0;
    }
    PyTypeObject *type = Py_TYPE(part);
    if (!(PyType_GetFlags(type) & Py_TPFLAGS_HEAPTYPE)) {
        return 0; /* text, a number, a date, None, a list, a dict: no class of a record's */
    }
    int walk = in_classes(type, walked);
    if (!walk && !in_classes(type, leaves)) {
        return 0;
    }
    PyObject *fields = PyObject_GenericGetDict(part, NULL);
    if (fields == NULL) {
        return -1;
    }
    if (PyDict_CheckExact(fields)) {
        PyObject *key, *value;
        Py_ssize_t at = 0;
        while (walk && PyDict_Next(fields, &at, &key, &value)) {
            if (untrack_part(names, value, walked, leaves, depth + 1) < 0) {
                Py_DECREF(fields);
                return -1;
            }
        }
        PyObject_GC_UnTrack(fields);
    }
    Py_DECREF(fields);
    PyObject *given = PyObject_GetAttr(part, names->fields_set);
    if (given == NULL) {
        return -1;
    }
    if (PySet_CheckExact(given)) {
        PyObject_GC_UnTrack(given);
    }
    Py_DECREF(given);
    PyObject_GC_UnTrack(part);
    return 0;
}

static PyObject *
untrack(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "untrack(part, walked, leaves) takes 3 arguments");
        return NULL;
    }
    if (!PyTuple_Check(args[1]) || !PyTuple_Check(args[2])) {
        PyErr_SetString(PyExc_TypeError, "untrack: walked and leaves must be tuples");
        return NULL;
    }
    if (untrack_part(names_of(module), args[0], args[1], args[2], 0) < 0) {
        return NULL;
    }
    Py_INCREF(args[0]);
    return args[0];
}

/* tree: see the top. A spec deeper than this is refused (specs are tuples, so never cyclic). */
#define TREE_DEPTH 16

static PyObject *tree_of(PyObject *module, PyObject *spec, PyObject *source, int depth);

static PyObject *
tree_error(const char *message)
{
    PyErr_SetString(PyExc_TypeError, message);
    return NULL;
}

/* The value of a field with a child: its parts built as (how, spec) says. */
static PyObject *
child_of(PyObject *module, PyObject *child, PyObject *value, int depth)
{
    if (!PyTuple_Check(child) || PyTuple_Size(child) != 2) {
        return tree_error("tree: a child must be a (how, spec) tuple");
    }
    long how = PyLong_AsLong(PyTuple_GetItem(child, 0));
    if (how == -1 && PyErr_Occurred()) {
        return NULL;
    }
    PyObject *spec = PyTuple_GetItem(child, 1); /* borrowed */
    if (how == 1) { /* a tuple of parts */
        if (!PyTuple_Check(value)) {
            return tree_error("tree: a field of parts (1) must hold a tuple");
        }
        Py_ssize_t n = PyTuple_Size(value);
        PyObject *parts = PyTuple_New(n);
        if (parts == NULL) {
            return NULL;
        }
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *part = tree_of(module, spec, PyTuple_GetItem(value, i), depth + 1);
            if (part == NULL || PyTuple_SetItem(parts, i, part) < 0) { /* steals `part` */
                Py_DECREF(parts);
                return NULL;
            }
        }
        return parts;
    }
    if (how == 2) { /* a dict of parts */
        if (!PyDict_Check(value)) {
            return tree_error("tree: a field of parts by key (2) must hold a dict");
        }
        PyObject *parts = PyDict_New();
        if (parts == NULL) {
            return NULL;
        }
        PyObject *key, *item;
        Py_ssize_t at = 0;
        while (PyDict_Next(value, &at, &key, &item)) {
            PyObject *part = tree_of(module, spec, item, depth + 1);
            if (part == NULL || PyDict_SetItem(parts, key, part) < 0) {
                Py_XDECREF(part);
                Py_DECREF(parts);
                return NULL;
            }
            Py_DECREF(part);
        }
        return parts;
    }
    if (how == 3) { /* one part, or None */
        if (value == Py_None) {
            Py_INCREF(Py_None);
            return Py_None;
        }
        return tree_of(module, spec, value, depth + 1);
    }
    return tree_error("tree: a child's how must be 1, 2 or 3");
}

static PyObject *
tree_of(PyObject *module, PyObject *spec, PyObject *source, int depth)
{
    if (depth > TREE_DEPTH) {
        return tree_error("tree: the spec is too deep");
    }
    if (!PyTuple_Check(spec) || PyTuple_Size(spec) != 4) {
        return tree_error("tree: spec must be a (cls, names, children, fields) tuple");
    }
    PyObject *cls = PyTuple_GetItem(spec, 0), *names = PyTuple_GetItem(spec, 1);
    PyObject *children = PyTuple_GetItem(spec, 2), *fields = PyTuple_GetItem(spec, 3);
    if (!PyTuple_Check(names) || !PyTuple_Check(children)
        || PyTuple_Size(names) != PyTuple_Size(children)) {
        return tree_error("tree: names and children must be tuples of one length");
    }
    Py_ssize_t n = PyTuple_Size(names);
    PyObject *values = PyDict_New();
    if (values == NULL) {
        return NULL;
    }
    PyObject *unset = NULL; /* the names of parts given as None (not among the fields set) */
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *name = PyTuple_GetItem(names, i), *child = PyTuple_GetItem(children, i);
        PyObject *value = PyObject_GetAttr(source, name);
        if (value != NULL && child != Py_None) {
            PyObject *built_child = child_of(module, child, value, depth);
            /* a part given as None (only a child of how 3 gives None back) is not set */
            if (built_child == Py_None && unset == NULL) {
                unset = PyList_New(0);
            }
            if (built_child == Py_None && (unset == NULL || PyList_Append(unset, name) < 0)) {
                Py_CLEAR(built_child);
            }
            Py_DECREF(value);
            value = built_child;
        }
        if (value == NULL || PyDict_SetItem(values, name, value) < 0) {
            Py_XDECREF(value);
            Py_XDECREF(unset);
            Py_DECREF(values);
            return NULL;
        }
        Py_DECREF(value);
    }
    PyObject *given = fields;
    if (unset != NULL) { /* the fields set, less the parts given as None */
        given = PySet_New(fields);
        Py_ssize_t m = given == NULL ? 0 : PyList_Size(unset);
        for (Py_ssize_t i = 0; given != NULL && i < m; i++) {
            if (PySet_Discard(given, PyList_GetItem(unset, i)) < 0) {
                Py_CLEAR(given);
            }
        }
        Py_DECREF(unset);
        if (given == NULL) {
            Py_DECREF(values);
            return NULL;
        }
    }
    PyObject *part = built(module, cls, values, given);
    if (given != fields) {
        Py_DECREF(given);
    }
    Py_DECREF(values);
    return part;
}

static PyObject *
tree(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        return tree_error("tree(spec, source) takes 2 arguments");
    }
    return tree_of(module, args[0], args[1], 0);
}

static PyMethodDef methods[] = {
    {"model", (PyCFunction)(void (*)(void))model, METH_FASTCALL,
     "model(cls, values, fields): a part of `cls` with __dict__ `values`, `fields` set, unvalidated."},
    {"tree", (PyCFunction)(void (*)(void))tree, METH_FASTCALL,
     "tree(spec, source): a pbr._lean part and the parts it holds as their models, in one call."},
    {"untrack", (PyCFunction)(void (*)(void))untrack, METH_FASTCALL,
     "untrack(part, walked, leaves): part, out of the cyclic collector's sight with the parts it holds."},
    {NULL, NULL, 0, NULL},
};

static int
exec_module(PyObject *module)
{
    names_t *names = names_of(module);
    names->dict = PyUnicode_InternFromString("__dict__");
    names->fields_set = PyUnicode_InternFromString("__pydantic_fields_set__");
    names->extra = PyUnicode_InternFromString("__pydantic_extra__");
    names->private_ = PyUnicode_InternFromString("__pydantic_private__");
    if (names->dict == NULL || names->fields_set == NULL || names->extra == NULL
        || names->private_ == NULL) {
        return -1;
    }
    return 0;
}

static int
clear(PyObject *module)
{
    names_t *names = names_of(module);
    if (names != NULL) {
        Py_CLEAR(names->dict);
        Py_CLEAR(names->fields_set);
        Py_CLEAR(names->extra);
        Py_CLEAR(names->private_);
    }
    return 0;
}

static void
free_module(void *module)
{
    clear((PyObject *)module);
}

static PyModuleDef_Slot slots[] = {
    {Py_mod_exec, exec_module},
    {0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    "pbr._rebuild",
    "Decision parts built from field values already valid (see pbr.decisions).",
    sizeof(names_t),
    methods,
    slots,
    NULL, /* nothing to traverse: the names are strings */
    clear,
    free_module,
};

PyMODINIT_FUNC
PyInit__rebuild(void)
{
    return PyModuleDef_Init(&module);
}
