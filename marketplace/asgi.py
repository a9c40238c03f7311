"""The ASGI entry point for uvicorn: the app built from the environment's settings, with
its offer index loading in the background (each worker process imports this once)."""

import gc

from marketplace.app import create_app
from matching.deps import warm_offer_index

YOUNG_OBJECTS_COLLECTED_AFTER = 10_000
"""The collector's first threshold in a worker (Python's default is 700). Drawing a search
page holds a few thousand small objects at once, all freed by reference counting when it is
sent; at 700 each page set off several collections, which promoted them to older
generations that were then searched too: about a millisecond of every search's CPU,
measured at 100,000 offers. At this threshold a page's objects are freed before the
collector looks; the few cycles requests leave wait a little longer."""

gc.set_threshold(YOUNG_OBJECTS_COLLECTED_AFTER, *gc.get_threshold()[1:])
app = create_app()
warm_offer_index(app.state)
