/*
 * fs_attach.c -- finding CPython in the process and attaching to it.
 *
 * Two ways in, one activation (docs/design.md, "Attaching"):
 *
 *   - the constructor runs in every process the library is preloaded into.
 *     It costs one dlsym(): when no interpreter is mapped it returns and the
 *     library stays inert.  When one is (Debian's static python exports its
 *     API; a shared build has libpython as a dependency), it attaches;
 *   - the interpreter entry points an embedder calls across a library
 *     boundary (Py_Initialize, Py_InitializeEx, Py_InitializeFromConfig,
 *     Py_Main, Py_BytesMain) are defined here, forward to the real ones and
 *     attach.  That covers a libpython dlopen()ed late (uWSGI's plugin,
 *     mod_wsgi) and a runtime initialized again after Py_Finalize().
 *
 * Attaching resolves the C-API table and registers one PEP 578 audit hook
 * per runtime.  The hook is the trigger for everything else: at the first
 * import in each interpreter it installs the import finder (fs_finder.c).
 * It is registered after initialization where the caller lets us, and
 * before it where the program is python itself (the constructor of a
 * static python, Py_BytesMain, Py_Main).  Registering before
 * initialization needs care when the debug allocator will be switched on
 * (PYTHONMALLOC=debug, -X dev, PYTHONDEVMODE, a debug build): CPython
 * allocates the hook entry now, with the plain allocator, and frees it at
 * exit with the debug one, which aborts.  So when the debug allocator is
 * predicted, the entry is allocated with the debug hooks installed for the
 * duration of the call, which is exactly the block CPython's debug free
 * expects.  That needs an exact prediction (fs_argv.c), which only a
 * command line that CPython itself parses gives: the argv of
 * Py_BytesMain or Py_Main, or the process's argv in a static python (an
 * executable that exports the C API is taken to be python, whose main()
 * hands its argv to Py_BytesMain).  Nothing else is predicted: a program
 * linked with libpython chooses its allocator in its own PyPreConfig or
 * PyConfig (dev_mode, allocator, its own argv), so there the library
 * waits for an interposed entry point -- Py_BytesMain/Py_Main before
 * initialization, Py_Initialize* after it -- and never registers from the
 * constructor.
 */
#include "fs_api.h"
#include "fs_argv.h"
#include "fs_elf.h"
#include "fs_finder.h"
#include "fs_state.h"

#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>


static pthread_mutex_t fs_attach_lock = PTHREAD_MUTEX_INITIALIZER;
/* Audit hook registered in this runtime.  Read and set under
 * fs_attach_lock, but cleared by the hook at Py_Finalize, where taking the
 * lock could deadlock: atomic. */
static atomic_bool fs_hooked;

/* The command line CPython will parse, bytes or wide (Py_Main). */
struct fs_cmdline {
    int argc;
    char *const *argv;
    wchar_t *const *wargv;
};


static int
fs_audit_hook(const char *event, PyObject *args, void *data)
{
    (void)data;
    if (event[0] == 'i' && strcmp(event, "import") == 0) {
        return fs_finder_on_import(args);
    }
    else if (event[0] == 'c'
             && strcmp(event, "cpython._PySys_ClearAuditHooks") == 0) {
        fs_hooked = false;      /* Py_Finalize: the next init re-attaches */
    }
    return 0;
}

static const char *
fs_getenv(const char *name)
{
    return getenv(name);
}

/* Register the hook before initialization; see the top of this file.
 * cmd: the command line CPython will parse, or NULL when there is none to
 * predict from (then nothing is registered before initialization). */
static bool
fs_add_hook_preinit(const struct fs_cmdline *cmd)
{
    PyMemAllocatorEx raw, mem, obj;
    bool debug_build;
    int debug, rc;

    if (cmd == NULL) {
        return false;           /* wait for an interposed Py_Initialize* */
    }
    /* A Py_DEBUG build starts with the debug allocator by default. */
    debug_build = fs_symbol_where("_Py_RefTotal") != FS_NOWHERE;
    debug = cmd->wargv != NULL
            ? fs_argv_debug_allocator_wide(cmd->argc, cmd->wargv, fs_getenv,
                                           debug_build)
            : fs_argv_debug_allocator(cmd->argc, cmd->argv, fs_getenv,
                                      debug_build);
    if (debug < 0) {
        return false;           /* no memory for a prediction: stay out */
    }
    if (!debug) {
        return PySys_AddAuditHook(fs_audit_hook, NULL) == 0;
    }
    PyMem_GetAllocator(PYMEM_DOMAIN_RAW, &raw);
    PyMem_GetAllocator(PYMEM_DOMAIN_MEM, &mem);
    PyMem_GetAllocator(PYMEM_DOMAIN_OBJ, &obj);
    PyMem_SetupDebugHooks();
    rc = PySys_AddAuditHook(fs_audit_hook, NULL);
    PyMem_SetAllocator(PYMEM_DOMAIN_RAW, &raw);
    PyMem_SetAllocator(PYMEM_DOMAIN_MEM, &mem);
    PyMem_SetAllocator(PYMEM_DOMAIN_OBJ, &obj);
    return rc == 0;
}

/* Register the audit hook once per runtime.  `handle` is where the C API
 * is looked up; `how` names the way in, for the activate log line; cmd is
 * the command line CPython will parse, or NULL (see fs_add_hook_preinit). */
static void
fs_attach(void *handle, const char *how, const struct fs_cmdline *cmd)
{
    pthread_mutex_lock(&fs_attach_lock);
    if ((fs_api_ready() || fs_api_resolve(handle)) && !fs_hooked) {
        if (Py_IsInitialized()) {
            PyGILState_STATE g = PyGILState_Ensure();
            if (PySys_AddAuditHook(fs_audit_hook, NULL) == 0) {
                fs_hooked = true;
            }
            else {
                PyErr_Clear();  /* another hook vetoed us: stay out */
            }
            PyGILState_Release(g);
        }
        else {
            fs_hooked = fs_add_hook_preinit(cmd);
        }
        if (fs_hooked) {
            fs_state.attach = how;
        }
    }
    pthread_mutex_unlock(&fs_attach_lock);
}

__attribute__((constructor)) static void
fs_constructor(int argc, char **argv, char **envp)
{
    struct fs_cmdline cmd = {argc, argv, NULL};

    (void)envp;
    /* Only a static python, whose argv CPython parses.  When the C API is
     * in a libpython instead, the program may be any embedder: its
     * interposed Py_BytesMain, Py_Main or Py_Initialize* attaches (see the
     * top of this file). */
    if (fs_symbol_where("PySys_AddAuditHook") == FS_IN_EXECUTABLE) {
        fs_attach(RTLD_DEFAULT, "constructor", &cmd);
    }
}

FS_EXPORT void
Py_InitializeEx(int initsigs)
{
    void *h;
    void (*real)(int) = (void (*)(int))fs_real("Py_InitializeEx", &h);

    if (real != NULL) {
        real(initsigs);
        fs_attach(h, "Py_InitializeEx", NULL);
    }
}

FS_EXPORT void
Py_Initialize(void)
{
    void *h;
    void (*real)(void) = (void (*)(void))fs_real("Py_Initialize", &h);

    if (real != NULL) {
        real();
        fs_attach(h, "Py_Initialize", NULL);
    }
}

FS_EXPORT PyStatus
Py_InitializeFromConfig(const PyConfig *config)
{
    void *h;
    PyStatus (*real)(const PyConfig *) =
        (PyStatus (*)(const PyConfig *))fs_real("Py_InitializeFromConfig", &h);
    PyStatus st;

    if (real == NULL) {
        memset(&st, 0, sizeof(st));
        st._type = 1;           /* _PyStatus_TYPE_ERROR */
        st.func = "Py_InitializeFromConfig";
        st.err_msg = "flaskshield: real Py_InitializeFromConfig not found";
        return st;
    }
    st = real(config);
    if (st._type == 0) {        /* _PyStatus_TYPE_OK */
        fs_attach(h, "Py_InitializeFromConfig", NULL);
    }
    return st;
}

FS_EXPORT int
Py_Main(int argc, wchar_t **argv)
{
    void *h;
    int (*real)(int, wchar_t **) =
        (int (*)(int, wchar_t **))fs_real("Py_Main", &h);
    struct fs_cmdline cmd = {argc, NULL, argv};

    if (real == NULL) {
        return 1;
    }
    fs_attach(h, "Py_Main", &cmd);
    return real(argc, argv);
}

FS_EXPORT int
Py_BytesMain(int argc, char **argv)
{
    void *h;
    int (*real)(int, char **) = (int (*)(int, char **))fs_real("Py_BytesMain",
                                                               &h);
    struct fs_cmdline cmd = {argc, argv, NULL};

    if (real == NULL) {
        return 1;
    }
    fs_attach(h, "Py_BytesMain", &cmd);
    return real(argc, argv);
}
