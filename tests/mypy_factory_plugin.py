"""A mypy plugin: calling a typed factory-boy factory (`ProgramFactory()`) gives its model.

factory-boy types `Factory.create()` and `.build()` by the factory's generic parameter
(`DjangoModelFactory[Program]`), but the call itself goes through a metaclass mypy cannot see
into, so without this plugin `ProgramFactory()` is typed as a `ProgramFactory`."""

from __future__ import annotations

from collections.abc import Callable

from mypy.maptype import map_instance_to_supertype
from mypy.nodes import TypeInfo
from mypy.plugin import FunctionContext, Plugin
from mypy.types import AnyType, Instance, Type, get_proper_type

BASE_FACTORY = "factory.base.BaseFactory"


def _model_of_factory(ctx: FunctionContext) -> Type:
    made = get_proper_type(ctx.default_return_type)
    if not isinstance(made, Instance):
        return ctx.default_return_type
    base = next((info for info in made.type.mro if info.fullname == BASE_FACTORY), None)
    if base is None:
        return ctx.default_return_type
    model = get_proper_type(map_instance_to_supertype(made, base).args[0])
    return ctx.default_return_type if isinstance(model, AnyType) else model


class FactoryCallPlugin(Plugin):
    def get_function_hook(self, fullname: str) -> Callable[[FunctionContext], Type] | None:
        symbol = self.lookup_fully_qualified(fullname)
        if symbol and isinstance(symbol.node, TypeInfo) and symbol.node.has_base(BASE_FACTORY):
            return _model_of_factory
        return None


def plugin(version: str) -> type[Plugin]:
    return FactoryCallPlugin
