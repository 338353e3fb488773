from addons.variants import VARIANTS, Variant


class VariantConverter:
    """``<variant:variant>`` in URLs: matches a registered slug and yields the ``Variant``."""

    regex = "|".join(VARIANTS)

    def to_python(self, value: str) -> Variant:
        return VARIANTS[value]

    def to_url(self, value: Variant | str) -> str:
        return value.slug if isinstance(value, Variant) else value
