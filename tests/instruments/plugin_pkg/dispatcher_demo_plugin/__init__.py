"""A third-party instrument: one product that greets."""

from instruments.base import Adapter, Products, ProductSpec, RunOutcome, RunRequest
from instruments.parameters import Integer, String


class GreetingAdapter(Adapter):
    kind = "demo-plugin"

    def describe(self) -> dict[str, ProductSpec]:
        parameters = (String("who", default="world"), Integer("times", default=1, min_value=1, max_value=3))
        return {"greeting": ProductSpec(name="greeting", parameters=parameters)}

    def run(self, request: RunRequest) -> RunOutcome:
        text = " ".join([f"Hello, {request.params['who']}!"] * request.params["times"])
        products = Products(text_product_list=[{"name": "greeting", "value": text, "meta_data": {}}])
        return RunOutcome(state="done", products=products)
