"""A methodologist's thresholds file and attempt policy change the levels and are reported."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select
from support import AppRunner, app_for, signed_in

from app.extensions import db
from app.models import Deficit
from app.settings import Settings


def deficits_with(database_url: str, moodle: tuple[str, str], **settings: str
                  ) -> tuple[int, dict, int]:
    url, token = moodle
    with app_for(Settings(database_url=database_url, moodle_url=url, moodle_token=token,
                          **settings)) as app:
        runner = AppRunner(app)
        assert runner.invoke(["sync"]).exit_code == 0
        result = runner.invoke(["deficits"])
        count = db.session.scalar(select(func.count(Deficit.id)).where(
            Deficit.level == "deficit")) or 0
        page = signed_in(app).get("/").get_data(as_text=True)
    summary = json.loads(result.output) if result.exit_code == 0 else {"error": result.output}
    return result.exit_code, summary | {"page": page}, count


def test_framework_thresholds_from_the_file_apply_and_are_reported(
        database_url: str, moodle: tuple[str, str], tmp_path: Path) -> None:
    _, plain, before = deficits_with(database_url, moodle)
    policy = tmp_path / "thresholds.toml"
    policy.write_text('[frameworks.PKU-2026]\nlabel = "Рамка ПКУ"\ndeficit_below = 0.75\n'
                      'risk_below = 0.9\n', encoding="utf-8")
    code, summary, after = deficits_with(f"{database_url}", moodle,
                                         thresholds_file=str(policy), attempt_policy="last")
    assert code == 0 and after > before
    assert any("Рамка ПКУ: дефицит ниже 75 %" in line for line in summary["thresholds"])
    assert any("последняя попытка" in line for line in summary["thresholds"])
    assert "для рамки «Рамка ПКУ»: дефицит ниже 75 %" in summary["page"]
    assert "для рамки" not in plain["page"]  # the default alone needs no list


def test_a_bad_thresholds_file_is_one_line(database_url: str, moodle: tuple[str, str],
                                           tmp_path: Path) -> None:
    policy = tmp_path / "thresholds.toml"
    policy.write_text("[groups.subject]\ndeficit = 0.4\n", encoding="utf-8")
    code, summary, _ = deficits_with(database_url, moodle, thresholds_file=str(policy))
    # The file is checked by the schema revisions use: the field, its line, the reason.
    assert code == 2 and summary["error"].count("\n") == 1
    assert (f"PROFROUTE_THRESHOLDS_FILE {policy}, строка 2: groups.subject.deficit: "
            "неизвестный ключ; допустимы deficit_below, label") in summary["error"]
    inverted = tmp_path / "inverted.toml"
    inverted.write_text("[groups.subject]\ndeficit_below = 0.8\nrisk_below = 0.6\n",
                        encoding="utf-8")
    code, summary, _ = deficits_with(database_url, moodle, thresholds_file=str(inverted))
    assert code == 2 and ("строка 2: groups.subject.deficit_below: порог дефицита (80 %) "
                          "выше порога риска (60 %)") in summary["error"]
