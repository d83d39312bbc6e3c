"""The input models cost ~180 ms of pydantic at import: the modules every request (and the sunset
worker) loads must not pull them in; only the handler that reads a body or an event does."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def loaded_after(imports: str) -> set[str]:
    code = f"import sys\n{imports}\nprint(' '.join(m for m in ('pydantic', 'chalicelib.sunset.contracts', 'chalicelib.unsubscribe.contracts') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_the_app_storage_and_the_event_modules_load_no_models():
    imports = (
        "import app\n"
        "from chalicelib.storage import subscribers\n"
        "from chalicelib.domain import sunset\n"
        "from chalicelib.sunset import job, engagement, email\n"
        "from chalicelib.unsubscribe import flow, senders, mailto, sms\n"
    )
    assert loaded_after(imports) == set()


def test_reading_an_ses_record_loads_its_models():
    assert "chalicelib.sunset.contracts" in loaded_after(
        "from chalicelib.sunset import engagement\n"
        "try:\n    engagement.parse_ses_record({})\nexcept engagement.BadRecord:\n    pass\n"
    )
