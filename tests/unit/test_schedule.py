"""The suite's order (tests/schedule.py): longest files first, each file's tests in their own order,
and the recorded figures read safely."""

import json
from types import SimpleNamespace

from tests import schedule


def items(*nodeids):
    return [SimpleNamespace(nodeid=n) for n in nodeids]


def test_the_longest_files_go_first_and_each_keeps_its_own_order():
    collected = items("a.py::one", "a.py::two", "b.py::one", "c.py::one", "c.py::two", "d.py::one")
    ordered = schedule.longest_files_first(collected, {"a.py": 1.0, "c.py": 30.0, "b.py": 2.5})
    assert [i.nodeid for i in ordered] == ["c.py::one", "c.py::two", "b.py::one", "a.py::one", "a.py::two", "d.py::one"]


def test_files_without_a_figure_keep_pytests_order_after_the_others():
    collected = items("z.py::t", "new.py::t", "m.py::t", "other.py::t")
    ordered = schedule.longest_files_first(collected, {"m.py": 0.5})
    assert [i.nodeid for i in ordered] == ["m.py::t", "z.py::t", "new.py::t", "other.py::t"]


def test_a_missing_or_broken_figures_file_orders_nothing(tmp_path):
    assert schedule.load_durations(tmp_path / "absent.json") == {}
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert schedule.load_durations(broken) == {}
    odd = tmp_path / "odd.json"
    odd.write_text(json.dumps({"files": {"a.py": "12", "b.py": True, "c.py": 3, "d.py": None}}))
    assert schedule.load_durations(odd) == {"c.py": 3.0}


def test_the_committed_figures_name_test_files_that_exist():
    durations = schedule.load_durations()
    assert durations, "tests/durations.json is missing or unreadable"
    missing = [name for name in durations if not (schedule.ROOT / name).is_file()]
    assert not missing, f"tests/durations.json names files that are gone (rewrite it, docs/tests.md): {missing}"
