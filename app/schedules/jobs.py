"""The jobs a schedule can run: each step calls the same stage service as its CLI command
(``profroute sync``, ``deficits``, ``recommend``, ``push``, ``retention``) and is recorded in
the run log under the same stage name; the chains are those of the README's cron lines."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.accounts.retention import apply_retention
from app.analyse.levels import compute_deficits
from app.common.moodle import moodle_api
from app.common.runs import logged_run
from app.models import Diagnostic
from app.push.run import push
from app.registry.catalogue import import_catalogue
from app.routes.items import recommend
from app.settings import Settings, SettingsError
from app.sync.pull import configured_diagnostic, sync

Step = Callable[[Settings], dict[str, Any]]
SYNC, PUSH = "sync", "push"  # lock groups (README: var/sync.lock, var/push.lock)


def _diagnostic(settings: Settings) -> Diagnostic:
    """:raise SettingsError: no diagnostic synced yet (as ``profroute deficits`` says)."""
    diagnostic = configured_diagnostic(settings)
    if diagnostic is None:
        raise SettingsError(f"no {settings.diagnostic_kind} diagnostic synced yet: run "
                            "`profroute sync` first")
    return diagnostic


def _sync(full: bool) -> Step:
    def step(settings: Settings) -> dict[str, Any]:
        if settings.catalogue_dir:
            import_catalogue(settings.catalogue_dir, settings.school_code_pattern)
        return sync(moodle_api(settings), settings, full=full).as_dict()
    return step


def _deficits(settings: Settings) -> dict[str, Any]:
    return compute_deficits(_diagnostic(settings), settings).as_dict()


def _recommend(settings: Settings) -> dict[str, Any]:
    return recommend(_diagnostic(settings), settings).as_dict()


def _push(settings: Settings) -> dict[str, Any]:
    return push(moodle_api(settings), settings).as_dict()


def _retention(settings: Settings) -> dict[str, Any]:
    return apply_retention(settings.retention_days, settings.moodle_url).as_dict()


@dataclass(frozen=True)
class Job:
    """A job: its names, the lock group it holds, and its steps (stage name, service)."""

    title_ru: str
    title_en: str
    group: str
    steps: tuple[tuple[str, Step], ...]

    @property
    def command(self) -> str:
        """The same work as ``profroute`` commands (shown on the page)."""
        return " && ".join(f"profroute {s}" if s != "sync-full" else "profroute sync --full"
                           for s, _ in self.steps)


_S, _SF = ("sync", _sync(False)), ("sync-full", _sync(True))
_D, _R = ("deficits", _deficits), ("recommend", _recommend)
JOBS: dict[str, Job] = {
    "sync-chain": Job("Синхронизация, уровни и рекомендации",
                      "Sync, deficits and recommendations", SYNC, (_S, _D, _R)),
    "full-sync-chain": Job("Полная синхронизация и уровни", "Full sync and deficits", SYNC,
                           (_SF, _D)),
    "sync": Job("Синхронизация с Moodle", "Incremental sync", SYNC, (_S,)),
    "sync-full": Job("Полная синхронизация с Moodle", "Full sync", SYNC, (_SF,)),
    "deficits": Job("Уровни дефицитов", "Deficit levels", SYNC, (_D,)),
    "recommend": Job("Рекомендации", "Recommendations", SYNC, (_R,)),
    "push": Job("Отправка в Moodle", "Push to Moodle", PUSH, (("push", _push),)),
    "retention": Job("Срок хранения персональных данных", "Personal-data retention", SYNC,
                     (("retention", _retention),)),
}


def run_steps(job: Job, settings: Settings) -> dict[str, Any]:
    """Run the job's steps in order, each as a run of the run log (as its command does); the
    first failure stops the chain and is raised. The summaries, by step."""
    done: dict[str, Any] = {}
    for name, step in job.steps:
        stage = "sync" if name == "sync-full" else name
        with logged_run(stage) as run:
            summary = step(settings)
            run.summary = summary
        done[name] = summary
    return done
