"""The ASGI entry point for uvicorn: the app built from the environment's settings, with
its offer index loading in the background (each worker process imports this once)."""

from marketplace.app import create_app
from matching.deps import warm_offer_index

app = create_app()
warm_offer_index(app.state)
