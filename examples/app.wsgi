# app.wsgi -- the WSGI entry point for Apache mod_wsgi and uWSGI.
#
# Both look for a callable named `application` in this file.  The folder of
# this file is put on sys.path so that factory_app is found.
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from factory_app import create_app  # noqa: E402

application = create_app()
