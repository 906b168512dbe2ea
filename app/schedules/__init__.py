"""The in-app scheduler: schedules of pipeline jobs stored in the database (``store``), the
jobs themselves, run through the same stage services as the CLI commands (``jobs``), the
database locks that keep a group of jobs from running twice at once (``lock``), and the loop of
``profroute scheduler`` (``runner``)."""
