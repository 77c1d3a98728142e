"""The command-line programs, one module each, with ``main(argv) -> exit code``.

Each is run as ``python scripts/<name>.py``, ``python -m vidpred.commands.<name>`` or, once
the package is installed, its console script (``vidpred-train``, ``vidpred-eval``, ...;
pyproject.toml lists them). A command parses its own flags (the shared ones from
``vidpred.cli``) and calls the library; commands start one another with
``python -m vidpred.commands.<name>``, never by a file path, so they run from any folder.
"""
