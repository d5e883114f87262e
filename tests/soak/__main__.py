"""``python -m tests.soak``: exit 0 when every invariant held, 1 when one failed, 2 on a
harness error, 130 on Ctrl-C and 143 on SIGTERM (after the same clean-up)."""

from __future__ import annotations

import asyncio
import sys
import traceback

from tests.soak.config import parse_args
from tests.soak.processes import last_resort_cleanup
from tests.soak.runner import run


def main() -> int:
    config = parse_args()
    try:
        return asyncio.run(run(config))
    except KeyboardInterrupt:
        print("soak: interrupted; processes stopped and the run folder removed", file=sys.stderr)
        return 130
    except asyncio.CancelledError:  # SIGTERM cancels the run (runner.run)
        print("soak: terminated; processes stopped and the run folder removed", file=sys.stderr)
        return 143
    except Exception:
        traceback.print_exc()
        print("soak: harness error (not a product verdict)", file=sys.stderr)
        return 2
    finally:
        last_resort_cleanup()


if __name__ == "__main__":
    sys.exit(main())
