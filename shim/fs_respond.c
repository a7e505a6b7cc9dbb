/*
 * fs_respond.c -- the answers the library gives itself, without the app:
 * 500 for a refused SECRET_KEY, 413 for a declared body over the limit.
 * The pages are Werkzeug's own wording, so that a client cannot tell them
 * from the app's default error pages, and carry the app's security
 * headers (fs_headers.c) as Flask's own pages do.
 */
#include "fs_respond.h"

#include <stdio.h>

#include "fs_headers.h"

static PyObject *
fs_respond(fs_appstate *st, PyObject *env, PyObject *start_response,
           const char *status, const char *title, const char *text)
{
    char body[512];
    char clen[24];
    int n = snprintf(body, sizeof(body),
                     "<!doctype html>\n<html lang=en>\n<title>%s %s</title>\n"
                     "<h1>%s</h1>\n<p>%s</p>\n", status, title, title, text);
    char line[64];
    PyObject *headers, *r, *chunk, *list;

    snprintf(clen, sizeof(clen), "%d", n);
    snprintf(line, sizeof(line), "%s %s", status, title);
    headers = Py_BuildValue("[(ss)(ss)]", "Content-Type",
                            "text/html; charset=utf-8", "Content-Length",
                            clen);
    if (headers == NULL) {
        return NULL;
    }
    fs_headers_extend(st, env, headers);
    r = PyObject_CallFunction(start_response, "sO", line, headers);
    FS_DECREF(headers);
    if (r == NULL) {
        return NULL;
    }
    FS_DECREF(r);
    chunk = PyBytes_FromStringAndSize(body, n);
    list = chunk != NULL ? PyList_New(1) : NULL;
    if (list == NULL) {
        FS_XDECREF(chunk);
        return NULL;
    }
    PyList_SetItem(list, 0, chunk);
    return list;
}

PyObject *
fs_respond_500(fs_appstate *st, PyObject *env, PyObject *start_response)
{
    return fs_respond(st, env, start_response, "500", "Internal Server Error",
                      "The server encountered an internal error and was "
                      "unable to complete your request. Either the server is "
                      "overloaded or there is an error in the application.");
}

PyObject *
fs_respond_413(fs_appstate *st, PyObject *env, PyObject *start_response)
{
    return fs_respond(st, env, start_response, "413", "Request Entity Too Large",
                      "The data value transmitted exceeds the capacity "
                      "limit.");
}
