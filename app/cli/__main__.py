"""``python -m app.cli``: the same as the ``profroute`` command."""

from app.cli import main

if __name__ == "__main__":
    main()
