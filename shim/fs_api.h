/*
 * fs_api.h -- the CPython C API, looked up at run time.
 *
 * The library has no link-time dependency on libpython (docs/design.md,
 * "No link-time dependency on libpython").  Every C-API function it calls is a member of one table, `fs_api`,
 * filled by fs_api_resolve() with dlsym() from the interpreter found in the
 * process; the defines below make ordinary C-API code (PEP 7) call through
 * the table.  Python.h is included for types, constants and struct layouts
 * only: the link uses -z defs, so a C-API function called directly instead
 * of through the table fails the build.
 *
 * The table is filled in two steps so that a Python process that never
 * imports Flask pays for a dozen look-ups, not a hundred (fs_api_full()).
 *
 * Reference counting goes through Py_IncRef/Py_DecRef (functions), not the
 * header's inline macros, so one binary serves CPython 3.8 to 3.13 whatever
 * their object header tricks (immortal objects, 3.12).
 */
#ifndef FS_API_H
#define FS_API_H

#include <Python.h>
#include <stdbool.h>

/* X(return type, name, parameters).  The core, resolved when the library
 * attaches: what attaching and the audit hook's every-event path need. */
#define FS_API_CORE(X)                                                      \
    X(int, Py_IsInitialized, (void))                                        \
    X(PyGILState_STATE, PyGILState_Ensure, (void))                          \
    X(void, PyGILState_Release, (PyGILState_STATE))                         \
    X(int, PySys_AddAuditHook, (Py_AuditHookFunction, void *))              \
    X(PyObject *, PySys_GetObject, (const char *))                          \
    X(void, PyMem_GetAllocator, (PyMemAllocatorDomain, PyMemAllocatorEx *)) \
    X(void, PyMem_SetAllocator, (PyMemAllocatorDomain, PyMemAllocatorEx *)) \
    X(void, PyMem_SetupDebugHooks, (void))                                  \
    X(unsigned long, PyType_GetFlags, (PyTypeObject *))                     \
    X(const char *, PyUnicode_AsUTF8AndSize, (PyObject *, Py_ssize_t *))    \
    X(Py_ssize_t, PyTuple_Size, (PyObject *))                               \
    X(PyObject *, PyTuple_GetItem, (PyObject *, Py_ssize_t))                \
    X(PyObject *, PyDict_GetItemString, (PyObject *, const char *))         \
    X(void, PyErr_Clear, (void))

/* The rest, resolved the first time a watched module is imported. */
#define FS_API_FUNCS(X)                                                     \
    X(const char *, Py_GetVersion, (void))                                  \
    X(void, Py_IncRef, (PyObject *))                                        \
    X(void, Py_DecRef, (PyObject *))                                        \
    X(PyObject *, PyType_FromSpec, (PyType_Spec *))                         \
    X(void *, PyType_GetSlot, (PyTypeObject *, int))                        \
    X(PyObject *, PyObject_GenericGetAttr, (PyObject *, PyObject *))        \
    X(PyObject *, PyObject_GetAttr, (PyObject *, PyObject *))               \
    X(PyObject *, PyObject_GetAttrString, (PyObject *, const char *))       \
    X(int, PyObject_SetAttrString, (PyObject *, const char *, PyObject *))  \
    X(int, PyObject_SetAttr, (PyObject *, PyObject *, PyObject *))          \
    X(int, PyObject_HasAttrString, (PyObject *, const char *))              \
    X(PyObject *, PyObject_Call, (PyObject *, PyObject *, PyObject *))      \
    X(PyObject *, PyObject_CallObject, (PyObject *, PyObject *))            \
    X(PyObject *, PyObject_CallFunctionObjArgs, (PyObject *, ...))          \
    X(PyObject *, PyObject_CallMethod,                                      \
      (PyObject *, const char *, const char *, ...))                        \
    X(int, PyObject_IsTrue, (PyObject *))                                   \
    X(PyObject *, PyObject_Str, (PyObject *))                               \
    X(PyObject *, PyObject_GetItem, (PyObject *, PyObject *))               \
    X(int, PyObject_SetItem, (PyObject *, PyObject *, PyObject *))          \
    X(int, PySequence_Contains, (PyObject *, PyObject *))                   \
    X(int, PyObject_RichCompareBool, (PyObject *, PyObject *, int))         \
    X(void, PyObject_Free, (void *))                                        \
    X(PyObject *, PyMethod_New, (PyObject *, PyObject *))                   \
    X(PyObject *, PyUnicode_FromString, (const char *))                     \
    X(PyObject *, PyUnicode_InternFromString, (const char *))               \
    X(int, PyBytes_AsStringAndSize, (PyObject *, char **, Py_ssize_t *))    \
    X(PyObject *, PyLong_FromLong, (long))                                  \
    X(PyObject *, PyLong_FromLongLong, (long long))                         \
    X(long long, PyLong_AsLongLong, (PyObject *))                           \
    X(PyObject *, PyBool_FromLong, (long))                                  \
    X(PyObject *, PyTuple_New, (Py_ssize_t))                                \
    X(PyObject *, PyTuple_Pack, (Py_ssize_t, ...))                          \
    X(PyObject *, PyNumber_Long, (PyObject *))                              \
    X(PyObject *, PySequence_Tuple, (PyObject *))                           \
    X(PyObject *, Py_BuildValue, (const char *, ...))                       \
    X(PyObject *, PyObject_CallFunction, (PyObject *, const char *, ...))   \
    X(int, PyTuple_SetItem, (PyObject *, Py_ssize_t, PyObject *))           \
    X(PyObject *, PyBytes_FromStringAndSize, (const char *, Py_ssize_t))    \
    X(int, PyList_SetItem, (PyObject *, Py_ssize_t, PyObject *))            \
    X(PyObject *, PyDict_GetItem, (PyObject *, PyObject *))                 \
    X(PyObject *, PyDict_GetItemWithError, (PyObject *, PyObject *))        \
    X(PyObject *, PyObject_GetIter, (PyObject *))                           \
    X(PyObject *, PyIter_Next, (PyObject *))                                \
    X(void, PyErr_SetObject, (PyObject *, PyObject *))                      \
    X(void, PyErr_SetNone, (PyObject *))                                    \
    X(PyObject *, PyList_New, (Py_ssize_t))                                 \
    X(Py_ssize_t, PyList_Size, (PyObject *))                                \
    X(PyObject *, PyList_GetItem, (PyObject *, Py_ssize_t))                 \
    X(int, PyList_Insert, (PyObject *, Py_ssize_t, PyObject *))             \
    X(int, PyList_Append, (PyObject *, PyObject *))                         \
    X(PyObject *, PyDict_New, (void))                                       \
    X(int, PyDict_SetItem, (PyObject *, PyObject *, PyObject *))            \
    X(int, PyDict_SetItemString, (PyObject *, const char *, PyObject *))    \
    X(PyObject *, PyDict_Copy, (PyObject *))                                \
    X(int, PyDict_Next,                                                     \
      (PyObject *, Py_ssize_t *, PyObject **, PyObject **))                 \
    X(PyObject *, PyModule_New, (const char *))                             \
    X(int, PyModule_AddFunctions, (PyObject *, PyMethodDef *))              \
    X(PyObject *, PyImport_ImportModule, (const char *))                    \
    X(PyObject *, PyErr_Occurred, (void))                                   \
    X(int, PyErr_ExceptionMatches, (PyObject *))                            \
    X(void, PyErr_SetString, (PyObject *, const char *))                    \
    X(PyObject *, PyErr_Format, (PyObject *, const char *, ...))            \
    X(void, PyErr_Fetch, (PyObject **, PyObject **, PyObject **))           \
    X(void, PyErr_Restore, (PyObject *, PyObject *, PyObject *))            \
    X(int, PyType_IsSubtype, (PyTypeObject *, PyTypeObject *))              \
    X(char *, PyByteArray_AsString, (PyObject *))                           \
    X(Py_ssize_t, PyByteArray_Size, (PyObject *))                           \
    X(Py_ssize_t, PyDict_Size, (PyObject *))                                \
    X(int, PyDict_DelItem, (PyObject *, PyObject *))                       \
    X(PyInterpreterState *, PyInterpreterState_Get, (void))                 \
    X(PyObject *, PyInterpreterState_GetDict, (PyInterpreterState *))       \
    X(PyObject *, PyType_GenericAlloc, (PyTypeObject *, Py_ssize_t))        \
    X(int, PyObject_GenericSetAttr, (PyObject *, PyObject *, PyObject *))   \
    X(int, PyList_SetSlice,                                                 \
      (PyObject *, Py_ssize_t, Py_ssize_t, PyObject *))                     \
    X(PyThreadState *, PyInterpreterState_ThreadHead,                       \
      (PyInterpreterState *))                                               \
    X(PyThreadState *, PyThreadState_Next, (PyThreadState *))              \
    X(PyFrameObject *, PyEval_GetFrame, (void))                            \
    X(int, PyObject_GetBuffer, (PyObject *, Py_buffer *, int))             \
    X(void, PyBuffer_Release, (Py_buffer *))

/* Data symbols: X(C type, name).  The table holds their addresses. */
#define FS_API_DATA(X)                                                      \
    X(PyObject, _Py_NoneStruct)                                             \
    X(PyObject, _Py_TrueStruct)                                             \
    X(PyObject, _Py_FalseStruct)                                            \
    X(PyObject *, PyExc_AttributeError)                                     \
    X(PyObject *, PyExc_RuntimeError)                                       \
    X(PyObject *, PyExc_TypeError)                                          \
    X(PyObject *, PyExc_ValueError)                                         \
    X(PyObject *, PyExc_SystemExit)                                         \
    X(PyObject *, PyExc_Exception)                                          \
    X(PyObject *, PyExc_MemoryError)                                        \
    X(PyObject *, PyExc_RecursionError)                                     \
    X(PyObject *, PyExc_UnicodeError)                                       \
    X(PyObject *, PyExc_KeyboardInterrupt)                                  \
    X(PyTypeObject, PyByteArray_Type)                                       \
    X(PyTypeObject, PyModule_Type)                                          \
    X(PyTypeObject, PyUnicode_Type)                                         \
    X(PyTypeObject, PyBytes_Type)                                           \
    X(PyTypeObject, PyLong_Type)                                            \
    X(PyTypeObject, PyFloat_Type)                                           \
    X(PyTypeObject, PyTuple_Type)

struct fs_api {
#define FS_API_MEMBER(ret, name, params) ret (*name) params;
    FS_API_CORE(FS_API_MEMBER)
    FS_API_FUNCS(FS_API_MEMBER)
#undef FS_API_MEMBER
#define FS_API_DATA_MEMBER(type, name) type *name;
    FS_API_DATA(FS_API_DATA_MEMBER)
#undef FS_API_DATA_MEMBER
};

extern struct fs_api fs_api;

/* Fill the core of fs_api from `handle` (RTLD_DEFAULT or a libpython
 * handle) and remember the handle.  Returns true when every core symbol was
 * found; the table is left untouched otherwise.  Call under the attach
 * lock. */
bool fs_api_resolve(void *handle);

/* True once fs_api_resolve() has succeeded. */
bool fs_api_ready(void);

/* Is the interpreter a free-threaded build (3.13t, Py_GIL_DISABLED)?  Its
 * objects have another header than the one the library is built for
 * (ob_type is not where Py_TYPE() reads it), so there the library touches
 * no object and only says, once, that it cannot protect the process
 * (fs_finder_on_import).  Decided by fs_api_resolve(), from a symbol only
 * such a build defines. */
bool fs_api_free_threaded(void);

/* Fill the rest of the table (idempotent; under the GIL).  False when a
 * symbol is missing: the library then stays out of the way.  A function
 * that an older CPython spells differently is looked up under both names
 * (fs_api.c, fs_api_aliases). */
bool fs_api_full(void);

/* Route C-API calls through the table.  Keep in step with FS_API_FUNCS: a
 * missing line here shows up as an undefined symbol at link time.  fs_api.c,
 * which fills the table by member name, does without them. */
#ifndef FS_API_TABLE_ONLY
#define Py_IsInitialized (fs_api.Py_IsInitialized)
#define Py_GetVersion (fs_api.Py_GetVersion)
#define Py_IncRef (fs_api.Py_IncRef)
#define Py_DecRef (fs_api.Py_DecRef)
#define PyGILState_Ensure (fs_api.PyGILState_Ensure)
#define PyGILState_Release (fs_api.PyGILState_Release)
#define PySys_AddAuditHook (fs_api.PySys_AddAuditHook)
#define PySys_GetObject (fs_api.PySys_GetObject)
#define PyMem_GetAllocator (fs_api.PyMem_GetAllocator)
#define PyMem_SetAllocator (fs_api.PyMem_SetAllocator)
#define PyMem_SetupDebugHooks (fs_api.PyMem_SetupDebugHooks)
#define PyType_FromSpec (fs_api.PyType_FromSpec)
#define PyType_GetFlags (fs_api.PyType_GetFlags)
#define PyType_GetSlot (fs_api.PyType_GetSlot)
#define PyObject_GenericGetAttr (fs_api.PyObject_GenericGetAttr)
#define PyObject_GetAttr (fs_api.PyObject_GetAttr)
#define PyObject_GetAttrString (fs_api.PyObject_GetAttrString)
#define PyObject_SetAttrString (fs_api.PyObject_SetAttrString)
#define PyObject_SetAttr (fs_api.PyObject_SetAttr)
#define PyObject_HasAttrString (fs_api.PyObject_HasAttrString)
#define PyObject_Call (fs_api.PyObject_Call)
#define PyObject_CallObject (fs_api.PyObject_CallObject)
#define PyObject_CallFunctionObjArgs (fs_api.PyObject_CallFunctionObjArgs)
#define PyObject_CallMethod (fs_api.PyObject_CallMethod)
#define PyObject_IsTrue (fs_api.PyObject_IsTrue)
#define PyObject_Str (fs_api.PyObject_Str)
#define PyObject_GetItem (fs_api.PyObject_GetItem)
#define PyObject_SetItem (fs_api.PyObject_SetItem)
#define PySequence_Contains (fs_api.PySequence_Contains)
#define PyObject_RichCompareBool (fs_api.PyObject_RichCompareBool)
#define PyObject_Free (fs_api.PyObject_Free)
#define PyMethod_New (fs_api.PyMethod_New)
#define PyUnicode_FromString (fs_api.PyUnicode_FromString)
#define PyUnicode_InternFromString (fs_api.PyUnicode_InternFromString)
#define PyUnicode_AsUTF8AndSize (fs_api.PyUnicode_AsUTF8AndSize)
#define PyBytes_AsStringAndSize (fs_api.PyBytes_AsStringAndSize)
#define PyLong_FromLong (fs_api.PyLong_FromLong)
#define PyLong_FromLongLong (fs_api.PyLong_FromLongLong)
#define PyLong_AsLongLong (fs_api.PyLong_AsLongLong)
#define PyBool_FromLong (fs_api.PyBool_FromLong)
#define PyTuple_New (fs_api.PyTuple_New)
#define PyTuple_Pack (fs_api.PyTuple_Pack)
#define PyNumber_Long (fs_api.PyNumber_Long)
#define PySequence_Tuple (fs_api.PySequence_Tuple)
#define PyTuple_SetItem (fs_api.PyTuple_SetItem)
#define Py_BuildValue (fs_api.Py_BuildValue)
#define PyObject_CallFunction (fs_api.PyObject_CallFunction)
#define PyBytes_FromStringAndSize (fs_api.PyBytes_FromStringAndSize)
#define PyList_SetItem (fs_api.PyList_SetItem)
#define PyDict_GetItem (fs_api.PyDict_GetItem)
#define PyDict_GetItemWithError (fs_api.PyDict_GetItemWithError)
#define PyObject_GetIter (fs_api.PyObject_GetIter)
#define PyIter_Next (fs_api.PyIter_Next)
#define PyErr_SetObject (fs_api.PyErr_SetObject)
#define PyErr_SetNone (fs_api.PyErr_SetNone)
#define PyTuple_Size (fs_api.PyTuple_Size)
#define PyTuple_GetItem (fs_api.PyTuple_GetItem)
#define PyList_New (fs_api.PyList_New)
#define PyList_Size (fs_api.PyList_Size)
#define PyList_GetItem (fs_api.PyList_GetItem)
#define PyList_Insert (fs_api.PyList_Insert)
#define PyList_Append (fs_api.PyList_Append)
#define PyDict_New (fs_api.PyDict_New)
#define PyDict_GetItemString (fs_api.PyDict_GetItemString)
#define PyDict_SetItem (fs_api.PyDict_SetItem)
#define PyDict_SetItemString (fs_api.PyDict_SetItemString)
#define PyDict_Copy (fs_api.PyDict_Copy)
#define PyDict_Next (fs_api.PyDict_Next)
#define PyModule_New (fs_api.PyModule_New)
#define PyModule_AddFunctions (fs_api.PyModule_AddFunctions)
#define PyImport_ImportModule (fs_api.PyImport_ImportModule)
#define PyErr_Occurred (fs_api.PyErr_Occurred)
#define PyErr_Clear (fs_api.PyErr_Clear)
#define PyErr_ExceptionMatches (fs_api.PyErr_ExceptionMatches)
#define PyErr_SetString (fs_api.PyErr_SetString)
#define PyErr_Format (fs_api.PyErr_Format)
#define PyErr_Fetch (fs_api.PyErr_Fetch)
#define PyErr_Restore (fs_api.PyErr_Restore)
#define PyType_IsSubtype (fs_api.PyType_IsSubtype)
#define PyByteArray_AsString (fs_api.PyByteArray_AsString)
#define PyByteArray_Size (fs_api.PyByteArray_Size)
#define PyDict_Size (fs_api.PyDict_Size)
#define PyDict_DelItem (fs_api.PyDict_DelItem)
#define PyInterpreterState_Get (fs_api.PyInterpreterState_Get)
#define PyInterpreterState_GetDict (fs_api.PyInterpreterState_GetDict)
#define PyType_GenericAlloc (fs_api.PyType_GenericAlloc)
#define PyObject_GenericSetAttr (fs_api.PyObject_GenericSetAttr)
#define PyList_SetSlice (fs_api.PyList_SetSlice)
#define PyInterpreterState_ThreadHead (fs_api.PyInterpreterState_ThreadHead)
#define PyThreadState_Next (fs_api.PyThreadState_Next)
#define PyEval_GetFrame (fs_api.PyEval_GetFrame)
#define PyObject_GetBuffer (fs_api.PyObject_GetBuffer)
#define PyBuffer_Release (fs_api.PyBuffer_Release)
#endif /* FS_API_TABLE_ONLY */

/* Singletons and exception types, through the table as well. */
#define FS_None (fs_api._Py_NoneStruct)
#define FS_True (fs_api._Py_TrueStruct)
#define FS_False (fs_api._Py_FalseStruct)
#define FS_ExcAttributeError (*fs_api.PyExc_AttributeError)
#define FS_ExcRuntimeError (*fs_api.PyExc_RuntimeError)
#define FS_ExcTypeError (*fs_api.PyExc_TypeError)
#define FS_ExcValueError (*fs_api.PyExc_ValueError)
#define FS_ExcSystemExit (*fs_api.PyExc_SystemExit)
#define FS_ExcUnicodeError (*fs_api.PyExc_UnicodeError)
#define FS_ExcKeyboardInterrupt (*fs_api.PyExc_KeyboardInterrupt)

/* Reference counting through the functions (see the top of this file). */
#define FS_INCREF(o) Py_IncRef((PyObject *)(o))
#define FS_DECREF(o) Py_DecRef((PyObject *)(o))
#define FS_XINCREF(o) Py_IncRef((PyObject *)(o))   /* Py_IncRef takes NULL */
#define FS_XDECREF(o) Py_DecRef((PyObject *)(o))   /* Py_DecRef takes NULL */
#define FS_CLEAR(o)                                                         \
    do {                                                                    \
        PyObject *fs_tmp_ = (PyObject *)(o);                                \
        (o) = NULL;                                                         \
        Py_DecRef(fs_tmp_);                                                 \
    } while (0)

/* Py_XSETREF: store the new value first, release the old one after, so
 * that code the release runs (a finalizer, the GC) never sees a freed
 * object in the field. */
#define FS_XSETREF(field, value)                                            \
    do {                                                                    \
        PyObject *fs_old_ = (PyObject *)(field);                            \
        (field) = (value);                                                  \
        Py_DecRef(fs_old_);                                                 \
    } while (0)

static inline PyObject *
fs_new_ref(PyObject *o)
{
    Py_IncRef(o);
    return o;
}

#define FS_RETURN_NONE return fs_new_ref(FS_None)

static inline bool
fs_is_str(PyObject *o)
{
    return (PyType_GetFlags(Py_TYPE(o)) & Py_TPFLAGS_UNICODE_SUBCLASS) != 0;
}

static inline bool
fs_is_bytes(PyObject *o)
{
    return (PyType_GetFlags(Py_TYPE(o)) & Py_TPFLAGS_BYTES_SUBCLASS) != 0;
}

static inline bool
fs_is_dict(PyObject *o)
{
    return (PyType_GetFlags(Py_TYPE(o)) & Py_TPFLAGS_DICT_SUBCLASS) != 0;
}

/* The interpreter's version as major * 100 + minor (311 for 3.11), from
 * Py_GetVersion(). */
long fs_api_version(void);

/* Does every change of a dict change its version tag (PEP 509) on this
 * interpreter?  CPython 3.8 to 3.13 with the GIL. */
extern bool fs_api_dict_versions;

/* The version tag of dict `d`: changes with every change of the dict, and
 * differs between any two dicts (a global counter).  0 where the
 * interpreter keeps none (fs_api_dict_versions false). */
static inline uint64_t
fs_dict_version(PyObject *d)
{
    return fs_api_dict_versions ? ((PyDictObject *)d)->ma_version_tag : 0;
}

static inline bool
fs_is_list(PyObject *o)
{
    return (PyType_GetFlags(Py_TYPE(o)) & Py_TPFLAGS_LIST_SUBCLASS) != 0;
}

static inline bool
fs_is_int(PyObject *o)
{
    return (PyType_GetFlags(Py_TYPE(o)) & Py_TPFLAGS_LONG_SUBCLASS) != 0;
}

static inline bool
fs_is_bytearray(PyObject *o)
{
    return PyType_IsSubtype(Py_TYPE(o), fs_api.PyByteArray_Type) != 0;
}

static inline bool
fs_is_module(PyObject *o)
{
    return PyType_IsSubtype(Py_TYPE(o), fs_api.PyModule_Type) != 0;
}

static inline bool
fs_is_tuple(PyObject *o)
{
    return (PyType_GetFlags(Py_TYPE(o)) & Py_TPFLAGS_TUPLE_SUBCLASS) != 0;
}

/* tp_getattro of a wrapper: its own attribute, else the wrapped object's
 * (so that it looks like what it wraps to introspection).  `inner` may be
 * NULL: then only its own. */
PyObject *fs_getattr_or(PyObject *self, PyObject *name, PyObject *inner);

/* Free an instance of one of our heap types (no GC) and drop the type's
 * reference, as a heap type's tp_dealloc must. */
void fs_object_free(PyObject *self);

/* Clear the pending exception when it is an ordinary failure that the
 * library survives by leaving a value alone: an Exception other than
 * MemoryError and RecursionError.  KeyboardInterrupt, SystemExit,
 * MemoryError, RecursionError (cleared, the call it ended would be made
 * again at each level of the recursion: a patched call that recurses into
 * itself from two places took 2^depth calls) and the other BaseExceptions
 * raised by the application's code (a __bool__, a property, an iterator)
 * stay set for the caller to pass on.  Returns true when no
 * exception is pending afterwards. */
bool fs_err_clear(void);

/* Is the pending exception one that fs_err_clear() would clear? */
bool fs_err_ordinary(void);

/* d[k] (borrowed) or NULL, for the per-request paths, where no exception
 * is pending: PyDict_GetItem without its save and restore of the pending
 * exception around every look-up.  A look-up error (a key's own __eq__)
 * is a miss, as with PyDict_GetItem, unless fs_err_clear() keeps it. */
static inline PyObject *
fs_dict_get(PyObject *d, PyObject *k)
{
    PyObject *v = PyDict_GetItemWithError(d, k);

    if (v == NULL && PyErr_Occurred() != NULL) {
        fs_err_clear();
    }
    return v;
}

/* Python's hasattr(): 1 or 0, or -1 with the exception set when getting
 * the attribute raised anything but AttributeError (PyObject_HasAttrString
 * would swallow a KeyboardInterrupt). */
int fs_hasattr(PyObject *o, const char *name);

/* A new, zero-filled instance of one of our heap types: the library's own
 * way to make its objects.  New reference, or NULL with an exception set. */
PyObject *fs_object_new(PyObject *type);

/* tp_alloc of every library type (fs_interp.c adds it to each spec): it
 * allocates only for fs_object_new(), which passes a `nitems` no CPython
 * caller passes, and raises TypeError for everybody else.  So no Python
 * code makes an instance whose fields are NULL, on any version, even after
 * giving the type a `__new__` of its own (3.8 and 3.9 cannot make a heap
 * type immutable). */
PyObject *fs_object_alloc(PyTypeObject *type, Py_ssize_t nitems);

/* tp_new of every library type where CPython has no
 * Py_TPFLAGS_DISALLOW_INSTANTIATION (before 3.10): raises TypeError, as a
 * type with that flag does. */
PyObject *fs_object_refuse_new(PyTypeObject *type, PyObject *args,
                               PyObject *kwargs);

#endif /* FS_API_H */
