"""Signals other apps listen to (the reports app confirms or dismisses an
owner's threat report and updates the owner's credibility on a decision)."""

import django.dispatch

# Sent inside the decision's transaction, after the case and its reviews have
# moved: sender=Case, case=<Case>, decision="confirmed"|"dismissed",
# actor=<User>, note=<str>. A receiver that raises rolls the decision back.
case_decided = django.dispatch.Signal()

# Sent inside the appeal decision's transaction: sender=Appeal, appeal=<Appeal>,
# case=<Case>, outcome="upheld"|"overturned". The reports app settles an
# owner's appealed report and tells the owner.
appeal_decided = django.dispatch.Signal()
