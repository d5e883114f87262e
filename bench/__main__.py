"""`make bench`: every benchmark, one after another."""

from __future__ import annotations

from bench import campaigns, history_trigger, notifications, rls_policy, smtp, webhooks, workflows


def main() -> None:
    print("# InTime benchmarks")
    history_trigger.run()
    rls_policy.run()
    webhooks.run()
    smtp.run()
    notifications.run()
    workflows.run()
    campaigns.run()


if __name__ == "__main__":
    main()
