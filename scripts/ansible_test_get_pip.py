"""Stand-in for the pip bootstrap script ansible-test downloads.

ansible-test fetches ``get-pip-<version>.py`` from a host our machines cannot
reach and caches it as ``~/.ansible/test/cache/get_pip_<version>.py``; its
message says to place the file there by hand when the download fails. This
file is what we place: like get-pip.py it installs the requested pip (and the
other packages named on the command line) into the running interpreter, but it
starts from the pip bundled with Python (ensurepip) and takes the rest from
PyPI, which we can reach.
"""

import ensurepip
import os
import runpy
import sys

IGNORED = {"--no-setuptools", "--no-wheel"}


def main():
    saved_environ = dict(os.environ)
    ensurepip.bootstrap(upgrade=False)
    # ensurepip sets PIP_CONFIG_FILE=/dev/null; the pip run below must read
    # the machine's pip configuration (certificates, indexes) again.
    os.environ.clear()
    os.environ.update(saved_environ)
    args = [arg for arg in sys.argv[1:] if arg not in IGNORED]
    sys.argv = ["pip", "install", "--upgrade", "--force-reinstall", *args]
    runpy.run_module("pip", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
