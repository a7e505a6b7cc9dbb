/*
 * fs_headers.c -- security headers and HTTPS from the policy: what
 * Flask-Talisman does, for every app, without touching it.
 *
 * The headers are added in Flask.process_response, which
 * Flask.finalize_request calls for every response Flask makes: a view's,
 * an error handler's (404, 500, a Werkzeug 413), a redirect, a
 * before-request function's.  The original runs first (the app's
 * after-request functions, the session), then each header the app did
 * not set is added: an app's own header, e.g. a stricter
 * X-Frame-Options: DENY, is kept unless headers.replace is true.  When
 * the original raises (an after-request function), they go on the response
 * it was given, which Flask sends when it was its error handler's 500.  The
 * library's own answers (fs_respond.c) get them from fs_headers_extend().
 * Strict-Transport-Security goes on HTTPS responses only: wsgi.url_scheme
 * "https" (or "wss", as Flask's request.is_secure), and X-Forwarded-Proto:
 * https only with https.trust_forwarded_proto.
 *
 * The (name, value) pairs are made once per app and policy
 * (fs_headers_settings, from fs_app.c).  A response's Headers, when it
 * is Werkzeug's own class, is read and extended through its list of pairs
 * (what all its methods work on): per header a comparison in C and one
 * list append, instead of a Python-level `in` and item assignment (some
 * 25,000 instructions a header); any other mapping through its methods.  In
 * report mode nothing is added; what would be is logged once per app and
 * header (`header.added`, enforced false), as in enforce mode.
 *
 * https.force redirects a plain-HTTP request from the request guard
 * (fs_guard.c, Flask.wsgi_app), before the app runs, so that it costs a
 * request nothing when off: not while the app is in debug mode, as
 * Talisman; the app's own redirect (Flask.redirect: 302, or 301 with
 * https.permanent) to the request's URL (werkzeug.wsgi.get_current_url,
 * what request.url is) with https://, with the headers added here, as
 * the request never reaches process_response.  Every Python error here is cleared
 * and Flask's own behaviour kept.
 */
#include "fs_headers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Bits of st->headers_logged past those of the headers tuple. */
#define FS_HDR_LOGGED_HSTS (1ull << 16)
#define FS_HDR_LOGGED_REDIRECT (1ull << 17)

/* A (name, value) pair of str (new reference), or NULL. */
static PyObject *
fs_pair(const char *name, const char *value)
{
    PyObject *k = PyUnicode_InternFromString(name);
    PyObject *v = k != NULL ? PyUnicode_FromString(value) : NULL;
    PyObject *pair = v != NULL ? PyTuple_Pack(2, k, v) : NULL;

    FS_XDECREF(v);
    FS_XDECREF(k);
    return pair;
}

/* Append (name, value) to list unless value is ""; 0 or -1. */
static int
fs_pair_append(PyObject *list, const char *name, const char *value)
{
    PyObject *pair;
    int rc;

    if (value[0] == '\0') {
        return 0;
    }
    pair = fs_pair(name, value);
    rc = pair != NULL ? PyList_Append(list, pair) : -1;
    FS_XDECREF(pair);
    return rc;
}

/* The CSP value: csp, then "; report-uri URI" unless csp names one
 * ("" without a csp; malloc'd, or NULL). */
static char *
fs_csp_value(const struct fs_app_settings *s)
{
    char *v = NULL;

    if (s->hdr_csp[0] == '\0' || s->hdr_csp_report_uri[0] == '\0'
        || strstr(s->hdr_csp, "report-uri") != NULL) {
        return strdup(s->hdr_csp);
    }
    if (asprintf(&v, "%s; report-uri %s", s->hdr_csp,
                 s->hdr_csp_report_uri) < 0) {
        return NULL;
    }
    return v;
}

int
fs_headers_settings(fs_appstate *st, const struct fs_app_settings *s)
{
    PyObject *list = PyList_New(0), *hsts = NULL;
    char buf[96], *csp = NULL;

    if (list == NULL) {
        return -1;
    }
    csp = fs_csp_value(s);
    if (csp == NULL) {
        PyErr_SetString(FS_ExcRuntimeError, "out of memory");
        goto error;
    }
    snprintf(buf, sizeof(buf), "max-age=%lld%s%s", s->hsts_max_age,
             s->hsts_include_subdomains ? "; includeSubDomains" : "",
             s->hsts_preload ? "; preload" : "");
    /* Talisman's order */
    if (fs_pair_append(list, "Permissions-Policy",
                       s->hdr_permissions_policy) < 0
        || fs_pair_append(list, "X-Frame-Options", s->hdr_frame_options) < 0
        || fs_pair_append(list, "X-Content-Type-Options",
                          s->hdr_content_type_options ? "nosniff" : "") < 0
        || fs_pair_append(list, s->hdr_csp_report_only
                          ? "Content-Security-Policy-Report-Only"
                          : "Content-Security-Policy", csp) < 0
        || fs_pair_append(list, "Referrer-Policy",
                          s->hdr_referrer_policy) < 0
        || (s->hsts_max_age > 0
            && (hsts = fs_pair("Strict-Transport-Security", buf)) == NULL)) {
        goto error;
    }
    free(csp);
    FS_XSETREF(st->headers, list);
    FS_XSETREF(st->hsts, hsts);
    st->headers_logged = 0;
    return 0;

error:
    free(csp);
    FS_DECREF(list);
    return -1;
}

/* A header added (or, in report mode, that would be): counted each time,
 * header.added logged once per app and header (bit). */
static void
fs_log_added(fs_appstate *st, unsigned long long bit, PyObject *pair,
             bool replaced)
{
    struct fs_logline l;

    fs_count(st->slot, FS_CNT_FIX_HEADER, fs_app_enforcing(st));
    if (!fs_once_in(&st->headers_logged, bit)) {
        return;
    }
    fs_app_log_begin(&l, FS_INFO, "header.added", st);
    fs_log_str(&l, "header",
               PyUnicode_AsUTF8AndSize(PyTuple_GetItem(pair, 0), NULL));
    fs_log_str(&l, "value",
               PyUnicode_AsUTF8AndSize(PyTuple_GetItem(pair, 1), NULL));
    fs_log_bool(&l, "replaced", replaced);
    fs_log_bool(&l, "enforced", fs_app_enforcing(st));
    fs_log_end(&l);
    fs_err_clear();
}

/* Is there a header `name` (any case) in `list`, the (name, value) pairs
 * of a Werkzeug Headers?  1 or 0; -1 when an entry is not a pair of str
 * (then the Headers' own methods are asked). */
static int
fs_list_has(PyObject *list, const char *name)
{
    Py_ssize_t i, n = PyList_Size(list);

    for (i = 0; i < n; i++) {
        PyObject *item = PyList_GetItem(list, i);
        PyObject *k = fs_is_tuple(item) && PyTuple_Size(item) == 2
                      ? PyTuple_GetItem(item, 0) : NULL;
        const char *c = k != NULL && fs_is_str(k)
                        ? PyUnicode_AsUTF8AndSize(k, NULL) : NULL;

        if (c == NULL) {
            fs_err_clear();
            return -1;
        }
        if (strcasecmp(c, name) == 0) {
            return 1;
        }
    }
    return 0;
}

/* One header into a response's Headers, unless the app set it (and
 * headers.replace is false).  `list` is the Headers' own list of pairs
 * when it is a plain Werkzeug Headers (a look-up in C and one append, a
 * few hundred instructions), else NULL: then its `in` and item
 * assignment. */
static void
fs_header_put(fs_appstate *st, PyObject *headers, PyObject *list,
              PyObject *pair, unsigned long long bit)
{
    PyObject *name = PyTuple_GetItem(pair, 0);
    PyObject *value = PyTuple_GetItem(pair, 1);
    const char *cname = PyUnicode_AsUTF8AndSize(name, NULL);
    int has = list != NULL && cname != NULL ? fs_list_has(list, cname) : -1;

    if (has < 0) {
        list = NULL;
        has = PySequence_Contains(headers, name);
    }
    if (has != 0) {
        PyObject *cur;
        int same;

        if (has < 0 || !st->s->hdr_replace) {
            fs_err_clear();
            return;
        }
        cur = PyObject_GetItem(headers, name);
        same = cur != NULL && PyObject_RichCompareBool(cur, value, Py_EQ) == 1;
        FS_XDECREF(cur);
        fs_err_clear();
        if (same) {
            return;
        }
    }
    if (fs_app_enforcing(st)
        && (list != NULL && has == 0 ? PyList_Append(list, pair)
                                     : PyObject_SetItem(headers, name,
                                                        value)) < 0) {
        fs_err_clear();
        return;
    }
    fs_log_added(st, bit, pair, has != 0);
}

/* The list of pairs of a plain werkzeug.datastructures.Headers (new
 * reference), or NULL for any other mapping (a subclass may do more on
 * assignment). */
static PyObject *
fs_headers_list(fs_patch *p, fs_appstate *st, PyObject *headers)
{
    PyObject *list;

    if (st->headers_type == NULL) {
        PyObject *mod = PyImport_ImportModule("werkzeug.datastructures");
        st->headers_type = mod != NULL ? PyObject_GetAttrString(mod, "Headers")
                                       : NULL;
        FS_XDECREF(mod);
        if (st->headers_type == NULL) {
            fs_err_clear();
            return NULL;
        }
    }
    if ((PyObject *)Py_TYPE(headers) != st->headers_type) {
        return NULL;
    }
    list = PyObject_GetAttr(headers, p->names[FS_N_LIST]);
    if (list == NULL || !fs_is_list(list)) {
        fs_err_clear();
        FS_XDECREF(list);
        return NULL;
    }
    return list;
}

/* Is the request of environ env HTTPS, as the policy counts it? */
static bool
fs_request_https(const fs_appstate *st, PyObject *env)
{
    PyObject *v;
    const char *c;

    if (env == NULL || !fs_is_dict(env)) {
        return false;
    }
    v = PyDict_GetItemString(env, "wsgi.url_scheme");
    c = v != NULL && fs_is_str(v) ? PyUnicode_AsUTF8AndSize(v, NULL) : NULL;
    if (c != NULL && (strcmp(c, "https") == 0 || strcmp(c, "wss") == 0)) {
        return true;
    }
    if (!st->s->https_trust_forwarded_proto) {
        fs_err_clear();
        return false;
    }
    v = PyDict_GetItemString(env, "HTTP_X_FORWARDED_PROTO");
    c = v != NULL && fs_is_str(v) ? PyUnicode_AsUTF8AndSize(v, NULL) : NULL;
    fs_err_clear();
    return c != NULL && strcmp(c, "https") == 0;
}

/* Flask's `request` of the current context (new reference), or NULL. */
static PyObject *
fs_flask_request(void)
{
    PyObject *mod = PyImport_ImportModule("flask.globals");
    PyObject *req = mod != NULL ? PyObject_GetAttrString(mod, "request")
                                : NULL;

    FS_XDECREF(mod);
    if (req == NULL) {
        fs_err_clear();
    }
    return req;
}

/* The environ of the request being handled (new reference), or NULL. */
static PyObject *
fs_request_environ(void)
{
    PyObject *req = fs_flask_request();
    PyObject *env = req != NULL ? PyObject_GetAttrString(req, "environ")
                                : NULL;

    FS_XDECREF(req);
    if (env == NULL) {
        fs_err_clear();     /* outside a request: no HSTS */
    }
    return env;
}

/* After Flask.process_response(app, ...) returned r: the policy's headers
 * added to r.headers.  Returns r. */
static PyObject *
fs_headers_add(fs_patch *p, PyObject *app, PyObject *r)
{
    PyObject *headers, *list, *hsts, *env, *pairs;
    fs_appstate *st;
    Py_ssize_t i, n;

    st = fs_app_state_in_request(app, p->names[FS_N_STATE]);
    /* nothing to add (every header off): not even a look at the response */
    if (st == NULL || st->s->mode == FS_MODE_OFF || st->headers == NULL
        || (PyList_Size(st->headers) == 0 && st->hsts == NULL)) {
        fs_err_clear();
        FS_XDECREF(st);
        return r;
    }
    headers = PyObject_GetAttr(r, p->names[FS_N_HEADERS]);
    if (headers == NULL) {
        fs_err_clear();
        FS_DECREF(st);
        return r;
    }
    /* a snapshot: the app's Headers may run Python code, and another
     * thread replace the pairs with a reload meanwhile */
    list = st->headers;
    hsts = st->hsts;
    FS_INCREF(list);
    FS_XINCREF(hsts);
    pairs = fs_headers_list(p, st, headers);
    n = PyList_Size(list);
    for (i = 0; i < n; i++) {
        fs_header_put(st, headers, pairs, PyList_GetItem(list, i), 1ull << i);
    }
    if (hsts != NULL) {
        env = fs_request_environ();
        if (fs_request_https(st, env)) {
            fs_header_put(st, headers, pairs, hsts, FS_HDR_LOGGED_HSTS);
        }
        FS_XDECREF(env);
    }
    FS_XDECREF(pairs);
    FS_XDECREF(hsts);
    FS_DECREF(list);
    FS_DECREF(headers);
    FS_DECREF(st);
    return r;
}

/* The original raised (an after-request function of the app's): when
 * `response` is the answer of Flask's error handler, finalize_request logs
 * the error and sends that response as it was passed in, so the headers go
 * on it (Talisman's, an after-request function too, never would).  The
 * exception is kept as it was. */
static void
fs_headers_on_raise(fs_patch *p, PyObject *app, PyObject *response)
{
    PyObject *type, *value, *tb;

    if (app == NULL || response == NULL) {
        return;
    }
    PyErr_Fetch(&type, &value, &tb);
    FS_INCREF(response);
    FS_DECREF(fs_headers_add(p, app, response));
    PyErr_Restore(type, value, tb);
}

static const char *const fs_process_response_params[] = {"self",
                                                         "response"};

/* The ordinary form: any call the original took, `self` (the app) and
 * `response` by position or by name. */
PyObject *
fs_headers_process_response(fs_patch *p, PyObject *orig, PyObject *args,
                            PyObject *kwargs)
{
    PyObject *r = fs_call_orig(orig, args, kwargs);
    PyObject *pos, *kw, *app, *type = NULL, *value = NULL, *tb = NULL;

    if (r == NULL) {
        PyErr_Fetch(&type, &value, &tb);    /* passed on as it was */
    }
    kw = fs_args_fit(args, kwargs, 0, fs_process_response_params, 2, 2,
                     &pos);
    if (kw != NULL) {   /* else out of memory: the response as it is */
        app = PyDict_GetItemString(kw, "self");
        if (r == NULL) {
            fs_headers_on_raise(p, app, PyDict_GetItemString(kw, "response"));
        }
        else {
            r = fs_headers_add(p, app, r);
        }
        FS_DECREF(pos);
        FS_DECREF(kw);
    }
    if (r == NULL) {
        PyErr_Restore(type, value, tb);
    }
    return r;
}

PyObject *
fs_headers_process_response_v(fs_patch *p, PyObject *orig,
                              PyObject *const *args, size_t nargsf,
                              PyObject *kwnames)
{
    PyObject *r;

    if (PyVectorcall_NARGS(nargsf) < 1) {
        return FS_PATCH_AS_TUPLE;       /* self by name */
    }
    r = fs_call_orig_v(orig, args, nargsf, kwnames);
    if (r == NULL) {
        if (PyVectorcall_NARGS(nargsf) >= 2) {
            fs_headers_on_raise(p, args[0], args[1]);
        }
        return r;
    }
    return fs_headers_add(p, args[0], r);
}

void
fs_headers_extend(fs_appstate *st, PyObject *env, PyObject *list)
{
    Py_ssize_t i, n = st->headers != NULL ? PyList_Size(st->headers) : 0;

    for (i = 0; i < n; i++) {
        PyObject *pair = PyList_GetItem(st->headers, i);
        if (PyList_Append(list, pair) < 0) {
            fs_err_clear();
            return;
        }
        fs_log_added(st, 1ull << i, pair, false);
    }
    if (st->hsts != NULL && fs_request_https(st, env)) {
        if (PyList_Append(list, st->hsts) < 0) {
            fs_err_clear();
            return;
        }
        fs_log_added(st, FS_HDR_LOGGED_HSTS, st->hsts, false);
    }
}

/* https.redirect, once per app. */
static void
fs_log_redirect(fs_appstate *st, int status)
{
    struct fs_logline l;

    if (!fs_once_in(&st->headers_logged, FS_HDR_LOGGED_REDIRECT)) {
        return;
    }
    fs_app_log_begin(&l, FS_INFO, "https.redirect", st);
    fs_log_int(&l, "status", status);
    fs_log_bool(&l, "enforced", fs_app_enforcing(st));
    fs_log_end(&l);
}

/* werkzeug.wsgi.get_current_url(env) with https:// for http:// (new
 * reference), or NULL (with no exception set) when the URL is not http. */
static PyObject *
fs_https_url(PyObject *env)
{
    PyObject *mod = PyImport_ImportModule("werkzeug.wsgi");
    PyObject *url = mod != NULL
                    ? PyObject_CallMethod(mod, "get_current_url", "O", env)
                    : NULL;
    const char *u = url != NULL && fs_is_str(url)
                    ? PyUnicode_AsUTF8AndSize(url, NULL) : NULL;
    PyObject *to = NULL;
    char *https = NULL;

    if (u != NULL && strncmp(u, "http://", 7) == 0
        && asprintf(&https, "https://%s", u + 7) >= 0) {
        to = PyUnicode_FromString(https);
        free(https);
    }
    FS_XDECREF(url);
    FS_XDECREF(mod);
    fs_err_clear();
    return to;
}

PyObject *
fs_headers_redirect(fs_patch *p, fs_appstate *st, PyObject *app,
                    PyObject *env, PyObject *start_response)
{
    PyObject *to, *debug, *resp = NULL, *headers = NULL, *pairs = NULL;
    PyObject *list, *r = NULL;
    int status = st->s->https_permanent ? 301 : 302, on;
    Py_ssize_t i, n;

    if (!st->s->https_force || st->headers == NULL
        || fs_request_https(st, env)) {
        FS_RETURN_NONE;
    }
    debug = PyObject_GetAttrString(app, "debug");
    on = debug != NULL ? PyObject_IsTrue(debug) : -1;
    FS_XDECREF(debug);
    to = on == 0 ? fs_https_url(env) : NULL;
    if (to == NULL) {
        fs_err_clear();
        FS_RETURN_NONE;
    }
    fs_log_redirect(st, status);
    if (fs_app_enforcing(st)) {
        resp = PyObject_CallMethod(app, "redirect", "Oi", to, status);
        headers = resp != NULL ? PyObject_GetAttr(resp, p->names[FS_N_HEADERS])
                               : NULL;
    }
    if (headers != NULL) {
        list = st->headers;
        FS_INCREF(list);
        pairs = fs_headers_list(p, st, headers);
        n = PyList_Size(list);
        for (i = 0; i < n; i++) {
            fs_header_put(st, headers, pairs, PyList_GetItem(list, i),
                          1ull << i);
        }
        FS_XDECREF(pairs);
        FS_DECREF(list);
        r = PyObject_CallFunctionObjArgs(resp, env, start_response, NULL);
    }
    FS_XDECREF(headers);
    FS_XDECREF(resp);
    FS_DECREF(to);
    if (r == NULL) {
        fs_err_clear();         /* served by the app as it is */
        FS_RETURN_NONE;
    }
    return r;
}
