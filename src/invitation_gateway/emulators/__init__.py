"""Stateful emulators of the vendors' invitation APIs: the sandbox's upstreams, and the tests'.

```
emulators/
  clerk/           ClerkEmulator: /v1/invitations, /v1/organizations/{org}/invitations, users
  conductorone/    ConductorOneEmulator: local-directory invitations, configs, /auth/v1/token
  _common.py       the base Emulator (recording, faults, latency) and shared helpers
  _faults.py       injected faults, including `after` and `drop` (the upstream acts, then fails)
  _control.py      the control API under /__emulator__/ (state, reset, faults, settings, expire)
  sandbox_seed.py  the sandbox's starting data
  serve.py         both emulators on one port (`invitation-gateway emulate`)
```

What tests and other code use is re-exported here and from the two vendor packages.
"""

from ._common import Emulator, ManualClock, RecordedRequest
from ._control import NotPending
from ._faults import ConnectionDropped

__all__ = ["ConnectionDropped", "Emulator", "ManualClock", "NotPending", "RecordedRequest"]
