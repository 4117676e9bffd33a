/* pbr._jsonscan: checks of a record's JSON, each in one pass over its bytes.
 *
 * They are pbr._compiled's, which keeps the same checks in Python for an install without a C
 * compiler: both give the same answers (tests/test_jsonscan.py).
 *
 * keys_given_once(data). msgspec keeps the last value of a repeated key and has no option to
 * refuse it (msgspec issue 648); pbr refuses such a record. In Python it is proved by decoding
 * the record a second time (about 27 µs a 5.5 KB record); this scan takes about 3.5. It returns
 * True only when it has proved that no object in `data` repeats
 * a key. It returns False whenever it cannot prove it: a key repeated, a key written with an
 * escape (which could spell another key), objects nested deeper than MAX_DEPTH or with more
 * than MAX_KEYS keys, or text that is not closed as JSON is. False means "not proved": the
 * caller then proves it, or refuses, in Python. The caller has already decoded `data` as a
 * family with msgspec, so it is well-formed JSON; this scan never relies on that for memory
 * safety (every read is bounded by the length).
 *
 * dates_in_bounds(canonical). Whether every value of the canonical JSON (msgspec's, as
 * pbr._compiled writes it) that looks like a date, ':"YYYY-MM-DD"', is in a year from 1900 to
 * 2099: the dates pbr accepts (pbr.periods). The regular expression it stands for, _BAD_YEAR,
 * takes about 6 µs a record.
 *
 * plain_canonical(canonical). The date check and pbr._compiled's look for the bytes a control
 * character is written with (a backslash, DEL, 0xC2), in one pass: True when the canonical JSON
 * passes both as it is, which is nearly every record; False sends it to the two checks one by
 * one, which decide.
 */
#define Py_LIMITED_API 0x030B0000
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>
#if defined(__SSE2__) && defined(__GNUC__)
#include <emmintrin.h>
#endif

#define MAX_DEPTH 16 /* a family record nests three deep: the family, its lists, their parts */
#define MAX_KEYS 64  /* a family has 16 fields, its parts at most 9 */

typedef struct {
    const char *at;
    Py_ssize_t len;
} Key;

typedef struct {
    int is_object;
    int count;
    unsigned long long lengths; /* bit (length % 64) set for each key's length: most keys of an
                                 * object differ in length, and are then compared with none */
    Key keys[MAX_KEYS];
} Frame;

/* The index of the quote closing the string whose text starts at `i`, or `n` when none does;
 * `*escaped` is set when the text holds a backslash (the byte after one is never the closing
 * quote). Sixteen bytes at a time where the compiler offers SSE2 (every x86-64): a record's
 * texts are short, and looking at them byte by byte was most of this scan's time. */
static Py_ssize_t
string_end(const char *s, Py_ssize_t i, Py_ssize_t n, int *escaped)
{
#if defined(__SSE2__) && defined(__GNUC__)
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i backslash = _mm_set1_epi8('\\');
    while (i + 16 <= n) {
        __m128i chunk = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        int found = _mm_movemask_epi8(
            _mm_or_si128(_mm_cmpeq_epi8(chunk, quote), _mm_cmpeq_epi8(chunk, backslash)));
        if (found == 0) {
            i += 16;
            continue;
        }
        i += __builtin_ctz((unsigned int)found);
        if (s[i] == '"') {
            return i;
        }
        *escaped = 1;
        i += 2;
    }
#endif
    while (i < n && s[i] != '"') {
        if (s[i] == '\\') {
            *escaped = 1;
            i += 2;
        }
        else {
            i++;
        }
    }
    return i < n ? i : n;
}

/* The bytes the key scan acts on; it passes over every other. */
static const unsigned char STRUCTURAL[256] = {
    ['{'] = 1, ['['] = 1, ['}'] = 1, [']'] = 1, [','] = 1, ['"'] = 1,
};

static int
proves_keys_given_once(const char *s, Py_ssize_t n)
{
    Frame frames[MAX_DEPTH];
    int depth = 0;      /* containers open */
    int expect_key = 0; /* the next string is a key: just after '{', or ',' in an object */
    Py_ssize_t i = 0;

    while (i < n) {
        char c = s[i];
        if (!STRUCTURAL[(unsigned char)c]) {
            i++; /* white space, ':', numbers, true, false, null */
            continue;
        }
        if (c == '{' || c == '[') {
            if (depth == MAX_DEPTH) {
                return 0;
            }
            frames[depth].is_object = (c == '{');
            frames[depth].count = 0;
            frames[depth].lengths = 0;
            depth++;
            expect_key = (c == '{');
            i++;
        }
        else if (c == '}' || c == ']') {
            if (depth == 0 || frames[depth - 1].is_object != (c == '}')) {
                return 0;
            }
            depth--;
            expect_key = 0;
            i++;
        }
        else if (c == ',') {
            if (depth == 0) {
                return 0;
            }
            expect_key = frames[depth - 1].is_object;
            i++;
        }
        else { /* '"': the only structural byte left */
            Py_ssize_t start = ++i;
            int escaped = 0;
            i = string_end(s, i, n, &escaped);
            if (i >= n) {
                return 0; /* the string is not closed */
            }
            if (expect_key) {
                Frame *frame = &frames[depth - 1]; /* expect_key is set only inside an object */
                Py_ssize_t len = i - start;
                if (escaped || frame->count == MAX_KEYS) {
                    return 0;
                }
                unsigned long long bit = 1ULL << (len % 64);
                if (frame->lengths & bit) {
                    for (int k = 0; k < frame->count; k++) {
                        const Key *seen = &frame->keys[k];
                        if (seen->len == len &&
                            memcmp(seen->at, s + start, (size_t)len) == 0) {
                            return 0; /* given twice */
                        }
                    }
                }
                frame->lengths |= bit;
                frame->keys[frame->count].at = s + start;
                frame->keys[frame->count].len = len;
                frame->count++;
                expect_key = 0;
            }
            i++; /* past the closing quote */
        }
    }
    return depth == 0;
}

static int
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Whether the colon at `p` starts a date outside 1900-2099: ':"YYYY-MM-DD"' (13 bytes). */
static int
bad_date_at(const char *p, const char *end)
{
    return end - p >= 13 && p[1] == '"' && is_digit(p[2]) && is_digit(p[3]) &&
           is_digit(p[4]) && is_digit(p[5]) && p[6] == '-' && is_digit(p[7]) &&
           is_digit(p[8]) && p[9] == '-' && is_digit(p[10]) && is_digit(p[11]) &&
           p[12] == '"' && !(p[2] == '1' && p[3] == '9') && !(p[2] == '2' && p[3] == '0');
}

#if defined(__SSE2__) && defined(__GNUC__)
/* Whether no colon of a 16-byte block (bit k of `found`: a colon at block[k]) starts a date
 * out of bounds. */
static inline int
colons_in_bounds(const char *block, unsigned int found, const char *end)
{
    while (found != 0) {
        if (bad_date_at(block + __builtin_ctz(found), end)) {
            return 0;
        }
        found &= found - 1;
    }
    return 1;
}
#endif

/* Each colon looked at where it is: found sixteen bytes at a time where the compiler offers
 * SSE2, byte by byte elsewhere (a record's canonical JSON has about 240). */
static int
proves_dates_in_bounds(const char *s, Py_ssize_t n)
{
    const char *end = s + n;
    Py_ssize_t i = 0;
#if defined(__SSE2__) && defined(__GNUC__)
    const __m128i colon = _mm_set1_epi8(':');
    for (; i + 16 <= n; i += 16) {
        __m128i chunk = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        unsigned int colons = (unsigned int)_mm_movemask_epi8(_mm_cmpeq_epi8(chunk, colon));
        if (!colons_in_bounds(s + i, colons, end)) {
            return 0;
        }
    }
#endif
    for (; i < n; i++) {
        if (s[i] == ':' && bad_date_at(s + i, end)) {
            return 0;
        }
    }
    return 1;
}

/* Whether the canonical JSON is plainly acceptable as it is: every date in bounds (as
 * proves_dates_in_bounds) and no backslash, DEL or byte 0xC2 anywhere, the bytes a control
 * character is written with (pbr._compiled's last check). The two checks of a record's canonical
 * JSON in one pass: 0 means only "not proved here", and the caller makes each check itself. */
static int
proves_plain_canonical(const char *s, Py_ssize_t n)
{
    const char *end = s + n;
    Py_ssize_t i = 0;
#if defined(__SSE2__) && defined(__GNUC__)
    const __m128i colon = _mm_set1_epi8(':');
    const __m128i backslash = _mm_set1_epi8('\\');
    const __m128i del = _mm_set1_epi8(0x7f);
    const __m128i c2 = _mm_set1_epi8((char)0xc2);
    for (; i + 16 <= n; i += 16) {
        __m128i chunk = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        __m128i odd = _mm_or_si128(
            _mm_cmpeq_epi8(chunk, backslash),
            _mm_or_si128(_mm_cmpeq_epi8(chunk, del), _mm_cmpeq_epi8(chunk, c2)));
        unsigned int colons = (unsigned int)_mm_movemask_epi8(_mm_cmpeq_epi8(chunk, colon));
        if (_mm_movemask_epi8(odd) != 0 || !colons_in_bounds(s + i, colons, end)) {
            return 0;
        }
    }
#endif
    for (; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\\' || c == 0x7f || c == 0xc2 || (c == ':' && bad_date_at(s + i, end))) {
            return 0;
        }
    }
    return 1;
}

/* `check` over the bytes of `data`, without the GIL (they cannot change), as a Python bool. */
static PyObject *
scanned(PyObject *data, int (*check)(const char *, Py_ssize_t))
{
    char *s;
    Py_ssize_t n;
    int proved;
    if (PyBytes_AsStringAndSize(data, &s, &n) < 0) {
        return NULL; /* TypeError: not bytes */
    }
    Py_BEGIN_ALLOW_THREADS
    proved = check(s, n);
    Py_END_ALLOW_THREADS
    return PyBool_FromLong(proved);
}

static PyObject *
keys_given_once(PyObject *module, PyObject *data)
{
    (void)module;
    return scanned(data, proves_keys_given_once);
}

static PyObject *
dates_in_bounds(PyObject *module, PyObject *canonical)
{
    (void)module;
    return scanned(canonical, proves_dates_in_bounds);
}

static PyObject *
plain_canonical(PyObject *module, PyObject *canonical)
{
    (void)module;
    return scanned(canonical, proves_plain_canonical);
}

static PyMethodDef methods[] = {
    {"keys_given_once", keys_given_once, METH_O,
     "keys_given_once(data, /)\n--\n\n"
     "True only when it is proved that no object in the JSON bytes `data` gives a key "
     "twice; False when it is not (a key repeated, an escaped key, deep or wide objects)."},
    {"dates_in_bounds", dates_in_bounds, METH_O,
     "dates_in_bounds(canonical, /)\n--\n\n"
     "Whether every ':\"YYYY-MM-DD\"' in the JSON bytes `canonical` has a year from 1900 to 2099."},
    {"plain_canonical", plain_canonical, METH_O,
     "plain_canonical(canonical, /)\n--\n\n"
     "True when every date of the JSON bytes `canonical` is in bounds (as dates_in_bounds) and "
     "they hold no backslash, DEL or 0xC2 byte; False means only \"not proved here\"."},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot slots[] = {
    {0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    "_jsonscan",
    "One-pass checks of a record's JSON for pbr._compiled: keys given once, dates in bounds, "
    "plain text.",
    0,
    methods,
    slots,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC
PyInit__jsonscan(void)
{
    return PyModuleDef_Init(&module);
}
