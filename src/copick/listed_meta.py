"""``ListedMeta``: the values of a listed entity's meta, without its pydantic model.

Kept apart from ``copick.metadata`` so that modules that only check for it (``entities.base``, which
the CLI's command table imports through ``copick.kinds``) load no pydantic or numpy.
"""

from __future__ import annotations

from typing import Any


class ListedMeta:
    """The values of a listed entity's meta, read as attributes, until the meta model is needed.

    Folder catalogs list thousands of entities whose identity comes from their names; building a
    model for each was a large part of a walk's cost when only identities are read. An entity holds this
    until ``.meta`` is used, then ``model()``: a fresh model of ``cls`` with these values and the
    model's defaults for the others (the model copick built when listing); any other attribute of
    the model reads from such a model. One instance is shared by every entity of the same name, so
    it refuses changes.
    """

    __slots__ = ("__dict__", "cls")

    def __init__(self, cls: type[Any], values: dict[str, Any]):
        object.__setattr__(self, "cls", cls)
        self.__dict__.update(values)

    def __getattr__(self, name: str) -> Any:
        """Anything else a model has (``model_dump()``, a default field), read from a model made for
        the read: readers of catalog records see the model's attributes."""
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.model(), name)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(
            f"{type(self).__name__} is shared by listed entities: change entity.meta instead"
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.cls.__name__}, {self.__dict__!r})"

    def __reduce__(self) -> tuple:
        return (ListedMeta, (self.cls, self.__dict__))

    def model(self) -> Any:
        """A new model of these values (each call its own: models are mutable)."""
        from copick.metadata import construct_unchecked

        values = self.__dict__.copy()
        for name, field in self.cls.model_fields.items():
            if name not in values:
                values[name] = field.get_default(call_default_factory=True)
        return construct_unchecked(self.cls, values)
