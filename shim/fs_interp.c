/*
 * fs_interp.c -- the per-interpreter state (see fs_interp.h).
 *
 * Where it lives: in the interpreter's own dict (PyInterpreterState_GetDict,
 * CPython's storage for extensions that need per-interpreter data, 3.8 on),
 * under the key FS_INTERP_KEY.  Each sub-interpreter has its own dict, so
 * each gets its own state without the library keeping a table of
 * interpreters, and the interpreter releases it when it is finalized (after
 * Py_Finalize a new main interpreter starts with an empty dict, hence a
 * fresh state).  No Python code can reach that dict, so nothing in
 * sys.meta_path, sys.modules or a module attribute can hide or replace the
 * library's types.  Finding the state is one dict look-up, done at import
 * time only (installing the finder, patching); what runs per request holds
 * a strong reference to it (struct fs_patch's `interp`), which also keeps
 * types and names alive as long as any patch made from them.
 *
 * The state is itself an object (`flaskshield.Interp`, of a type made with
 * it), so holding it is ordinary reference counting.
 *
 * The types: one per spec of fs_types.h, made from a copy of the spec
 * (where a Py_tp_base slot of NULL stands for ModuleType) with
 *   - the library's tp_alloc (fs_object_alloc), which allocates only for
 *     fs_object_new(), so Python code cannot make an instance with NULL
 *     fields on any version;
 *   - on 3.10 and later, Py_TPFLAGS_DISALLOW_INSTANTIATION (no tp_new, no
 *     __new__) and Py_TPFLAGS_IMMUTABLETYPE (no attribute of the type can be
 *     set from Python, as for a static type of a C extension).  These bits
 *     (1 << 7, 1 << 8) mean the same from 3.10 to 3.13 and are unused
 *     before 3.10, where they are left out and the refusing tp_new
 *     (fs_object_refuse_new) takes their place.  One binary serves every
 *     version, so the choice is made at run time from Py_GetVersion().
 */
#include "fs_interp.h"

#include <stdlib.h>

#define FS_INTERP_KEY "flaskshield.interp"
#define FS_MAX_SLOTS 32

static PyType_Spec *const fs_specs[FS_T_COUNT] = {
    [FS_T_LOADER] = &fs_loader_spec,
    [FS_T_PATCH] = &fs_patch_spec,
    [FS_T_APPSTATE] = &fs_appstate_spec,
    [FS_T_INPUT] = &fs_input_spec,
    [FS_T_LIMIT] = &fs_limit_spec,
    [FS_T_FINDER] = &fs_finder_spec,
    [FS_T_PACKAGE] = &fs_package_spec,
};

static void
fs_interp_dealloc(PyObject *self)
{
    struct fs_interp *s = (struct fs_interp *)self;
    int i;

    for (i = 0; i < FS_T_COUNT; i++) {
        FS_CLEAR(s->types[i]);
    }
    for (i = 0; i < FS_N_COUNT; i++) {
        FS_CLEAR(s->names[i]);
    }
    fs_object_free(self);
}

static PyType_Slot fs_interp_slots[] = {
    {Py_tp_dealloc, (void *)fs_interp_dealloc},
    {0, NULL},
};

static PyType_Spec fs_interp_spec = {
    "flaskshield.Interp", sizeof(struct fs_interp), 0, Py_TPFLAGS_DEFAULT,
    fs_interp_slots,
};

/* The flags a library type gets on this interpreter (see the top). */
static unsigned long
fs_type_flags(void)
{
    if (fs_api_version() >= 310) {
        return Py_TPFLAGS_DISALLOW_INSTANTIATION | Py_TPFLAGS_IMMUTABLETYPE;
    }
    return 0;
}

/* A heap type from `spec`, with the library's allocator and, where the
 * interpreter has no flag for it, the refusing tp_new.  New reference, or
 * NULL with an exception set. */
static PyObject *
fs_type_from_spec(const PyType_Spec *spec, unsigned long flags)
{
    PyType_Slot slots[FS_MAX_SLOTS];
    PyType_Spec copy = *spec;
    const PyType_Slot *s;
    int n = 0;

    for (s = spec->slots; s->slot != 0; s++) {
        if (s->slot == Py_tp_alloc || s->slot == Py_tp_new) {
            continue;           /* the library's own, below */
        }
        if (n == FS_MAX_SLOTS - 3) {
            PyErr_Format(FS_ExcRuntimeError,
                         "flaskshield: too many slots in %s", spec->name);
            return NULL;
        }
        slots[n] = *s;
        if (s->slot == Py_tp_base && s->pfunc == NULL) {
            /* a static initializer cannot name it: the table is filled
             * at run time */
            slots[n].pfunc = fs_api.PyModule_Type;
        }
        n++;
    }
    slots[n++] = (PyType_Slot){Py_tp_alloc, (void *)fs_object_alloc};
    if (!(flags & Py_TPFLAGS_DISALLOW_INSTANTIATION)) {
        slots[n++] = (PyType_Slot){Py_tp_new, (void *)fs_object_refuse_new};
    }
    slots[n] = (PyType_Slot){0, NULL};
    copy.flags |= flags;
    copy.slots = slots;
    /* PyType_FromSpec copies the slots; the name is a static string */
    return PyType_FromSpec(&copy);
}

static struct fs_interp *
fs_interp_new(void)
{
    unsigned long flags = fs_type_flags();
    PyObject *type = fs_type_from_spec(&fs_interp_spec, flags);
    struct fs_interp *s;
    int i;

    if (type == NULL) {
        return NULL;
    }
    s = (struct fs_interp *)fs_object_new(type);
    FS_DECREF(type);            /* the instance holds its type */
    if (s == NULL) {
        return NULL;
    }
    for (i = 0; i < FS_T_COUNT; i++) {
        s->types[i] = fs_type_from_spec(fs_specs[i], flags);
        if (s->types[i] == NULL) {
            goto error;
        }
    }
    fs_patch_type_ready(s->types[FS_T_PATCH]);
    for (i = 0; i < FS_N_COUNT; i++) {
        if (fs_names[i] == NULL) {
            PyErr_SetString(FS_ExcRuntimeError, "flaskshield: unnamed name");
            goto error;
        }
        s->names[i] = PyUnicode_InternFromString(fs_names[i]);
        if (s->names[i] == NULL) {
            goto error;
        }
    }
    return s;

error:
    FS_DECREF(s);
    return NULL;
}

/* The interpreter's dict (borrowed), or NULL: CPython makes it on first
 * use and gives NULL, with no exception, only when that fails. */
static PyObject *
fs_interp_dict(void)
{
    PyInterpreterState *is = PyInterpreterState_Get();

    return is != NULL ? PyInterpreterState_GetDict(is) : NULL;
}

/* The state in `dict` (borrowed), or NULL. */
static struct fs_interp *
fs_interp_in(PyObject *dict)
{
    PyObject *s = dict != NULL ? PyDict_GetItemString(dict, FS_INTERP_KEY)
                               : NULL;

    /* Only C code can write there; make sure it is ours anyway. */
    if (s == NULL || Py_TYPE(s)->tp_dealloc != fs_interp_dealloc) {
        return NULL;
    }
    return (struct fs_interp *)s;
}

/* The current interpreter's state, or NULL without an exception when it
 * has not been made. */
static struct fs_interp *
fs_interp_find(void)
{
    return fs_interp_in(fs_interp_dict());
}

struct fs_interp *
fs_interp_get(void)
{
    PyObject *dict = fs_interp_dict();
    struct fs_interp *s = fs_interp_in(dict);
    int rc;

    if (s != NULL) {
        return s;
    }
    if (dict == NULL) {
        PyErr_SetString(FS_ExcRuntimeError,
                        "flaskshield: no interpreter dict");
        return NULL;
    }
    s = fs_interp_new();
    if (s == NULL) {
        return NULL;
    }
    rc = PyDict_SetItemString(dict, FS_INTERP_KEY, (PyObject *)s);
    FS_DECREF(s);               /* the dict holds it */
    return rc == 0 ? s : NULL;
}

PyObject *
fs_type(enum fs_type_id id)
{
    struct fs_interp *s = fs_interp_get();

    return s != NULL ? s->types[id] : NULL;
}

bool
fs_is_type(PyObject *o, enum fs_type_id id)
{
    struct fs_interp *s = fs_interp_find();

    return s != NULL && o != NULL
           && Py_TYPE(o) == (PyTypeObject *)s->types[id];
}
