"""provgw gateway: service orders in, network-element operations out, durably.

One warning filter lives here because it must be in place before anything imports asyncssh:
cryptography ≥ 46 deprecates DSA and asyncssh (2.24) still imports its DSA types at import
time, so every ``provgw`` command would print five deprecation warnings on stderr — noise for
a clerk, and it breaks callers that read the card agent's ``--json`` log lines from stderr.
provgw neither offers nor accepts DSA keys; the filter is narrowed to that one message from
asyncssh's modules, so any other warning still shows.
"""

import warnings

warnings.filterwarnings("ignore", message="DSA is deprecated", module=r"asyncssh\.")
