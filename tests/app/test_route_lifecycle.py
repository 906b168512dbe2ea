"""Route items move only along proposed → approved → enrolled → completed → verified or
re-planned (or rejected, declined, cancelled). The events each move records are tested in
test_route_review.py."""

from __future__ import annotations

import pytest

from app.models import RouteItem


@pytest.mark.parametrize(("path", "allowed"), [
    (["approved", "enrolled", "completed"], True),
    (["rejected", "proposed", "approved"], True),
    (["approved", "cancelled", "proposed"], True),
    (["enrolled"], False),
    (["approved", "completed"], False),
    (["approved", "enrolled", "completed", "cancelled"], False),
    (["approved", "proposed"], False),
    (["approved", "enrolled", "rejected"], True),
    (["approved", "enrolled", "declined"], True),
    (["declined"], True),
    (["declined", "proposed"], False),
    (["approved", "enrolled", "completed", "verified"], True),
    (["approved", "enrolled", "completed", "replanned"], True),
    (["approved", "verified"], False),
    (["approved", "enrolled", "completed", "verified", "replanned"], False),
    (["approved", "enrolled", "completed", "declined"], False),
])
def test_route_item_lifecycle(path: list[str], allowed: bool) -> None:
    item = RouteItem(status="proposed")
    if allowed:
        for status in path:
            item.move_to(status)
        assert item.status == path[-1]
    else:
        with pytest.raises(ValueError, match="cannot go from"):
            for status in path:
                item.move_to(status)

