"""`invitation-gateway check-config`: every part `serve` would use, reached once, one line each.

Each check opens its part with the factories the app's lifespan uses (`upstreams`,
`open_limiter`, `open_store`, `AuditLog`, `open_authenticator`), touches it once as start-up or
`/readyz` would, closes it, and gives a `CheckResult`: the part, ok or failed, one line of
detail. The checks run concurrently, each within its own timeout, so a hung part neither hides
nor delays the others. The configuration itself is checked first, by `create_app` itself: a
problem that would stop `serve` is a failed `configuration` line, never a traceback.

Nothing secret is printed. Credentials are shown masked (`sk_live_…abcd`, `***`), URLs without
their password, and every line is scrubbed of every secret value the configuration holds,
whatever a driver put in an error message.

    report = await diagnose(settings, environ=os.environ)                   # what serve uses
    report = await diagnose(settings, environ={}, transport=sandbox.transport())  # tests
    print("\\n".join(report.lines())); exit(report.exit_status)

The parts: `_diagnosis` (the configuration, then every check concurrently), `_checks` (one
probe per part, each bounded by a timeout), `_report` (results and their lines), `_masking`
(what may be shown of a secret).
"""

from ._diagnosis import diagnose, store_url_problems
from ._masking import mask, mask_url
from ._report import Report, configuration_failure

__all__ = [
    "Report",
    "configuration_failure",
    "diagnose",
    "mask",
    "mask_url",
    "store_url_problems",
]
