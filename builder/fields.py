"""Field factory for every schema in Cellwright (recipe sections, block and template parameters).

One call carries the default, bounds, unit, a one-line help text and the UI hints that the GUI
uses to build forms. Bad defaults are rejected when the module is imported, not when a user
first hits them.

Example::

    class Patch(Section):
        size: int = field(256, help="Side of the square training patches.", ge=16, unit="px",
                          label="Patch size", common=True, suggested=[128, 256, 512])
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

#: Key under which UI metadata is stored in each property of the JSON Schema.
UI_KEY = "x-cellwright"
#: Longest text any recipe value or key may hold (paths, names, descriptions).
MAX_TEXT_LENGTH = 10_000
#: Largest random seed: the largest 32-bit integer (NumPy, TensorFlow and the GUI's number boxes take it).
MAX_SEED = 2**31 - 1


class Section(BaseModel):
    """Base of every recipe section and parameter model.

    Unknown keys are errors, never dropped; numbers must be finite (no ``.inf`` or ``.nan``); texts hold
    at most :data:`MAX_TEXT_LENGTH` characters.
    """

    model_config = ConfigDict(
        extra="forbid", validate_assignment=True, validate_default=False, allow_inf_nan=False,
        str_max_length=MAX_TEXT_LENGTH,
    )


def field(
    default: Any = ...,
    *,
    help: str,
    label: str | None = None,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
    unit: str | None = None,
    common: bool = False,
    suggested: list[Any] | None = None,
    widget: str | None = None,
    default_factory: Any = None,
    min_length: int | None = None,
    max_length: int | None = None,
) -> Any:
    """Declare a schema field with help text, bounds and UI metadata.

    Parameters
    ----------
    default : Any
        Default value (``...`` for required). Checked against the bounds right away.
    help : str
        One line shown as the tooltip, in ``cellwright explain`` and in the JSON Schema.
    label : str, optional
        Display name in the GUI; defaults to the field name in words.
    ge, gt, le, lt : float, optional
        Numeric bounds.
    unit : str, optional
        Unit shown next to the value (``px``, ``µm``, ``epochs``).
    common : bool
        ``True`` puts the field among the commonly used options; others go under "advanced".
    suggested : list, optional
        Values the GUI offers in a drop-down or as presets.
    widget : str, optional
        A hint for the GUI form (``slider``, ``path``, ``folder``, ``text``).
    """
    if not help or not help.strip():
        raise ValueError("Every Cellwright field needs a one-line help text.")
    _check_default(default, ge=ge, gt=gt, le=le, lt=lt, help=help)
    ui: dict[str, Any] = {"commonly_used": common}
    if label:
        ui["display_name"] = label
    if unit:
        ui["unit"] = unit
    if suggested is not None:
        ui["suggested_values"] = list(suggested)
    if widget:
        ui["widget"] = widget
    kwargs: dict[str, Any] = {
        "description": help.strip(),
        "json_schema_extra": {UI_KEY: ui},
    }
    if label:
        kwargs["title"] = label
    for name, value in (("ge", ge), ("gt", gt), ("le", le), ("lt", lt)):
        if value is not None:
            kwargs[name] = value
    if min_length is not None:
        kwargs["min_length"] = min_length
    if max_length is not None:
        kwargs["max_length"] = max_length
    if default_factory is not None:
        return Field(default_factory=default_factory, **kwargs)
    return Field(default, **kwargs)


def _check_default(default: Any, *, ge: Any, gt: Any, le: Any, lt: Any, help: str) -> None:
    if default is ... or default is None or isinstance(default, bool):
        return
    if not isinstance(default, (int, float)):
        return
    bad = (
        (ge is not None and default < ge)
        or (gt is not None and default <= gt)
        or (le is not None and default > le)
        or (lt is not None and default >= lt)
    )
    if bad:
        raise ValueError(
            f"Default {default!r} is outside the bounds ge={ge} gt={gt} le={le} lt={lt} "
            f"of the field described as {help!r}."
        )
