"""The ``evaluate:``, ``report:`` and ``export:`` sections."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from builder.model_files.defaults import DEFAULT_TOLERANCE as EXPORT_TOLERANCE
from builder.recipe.fields import Section, field


class PostProcess(Section):
    """How network outputs become masks or instance labels."""

    threshold: float = field(0.5, help="Foreground probability threshold.", ge=0.0, le=1.0, common=True)
    seed_threshold: float = field(0.5, help="Interior probability that marks a cell seed (watershed).", ge=0.0, le=1.0)
    nms_threshold: float = field(
        0.4, help="star_convex instance target: largest share of a candidate polygon that may already belong to "
        "kept objects (non-maximum suppression); lower keeps fewer overlapping objects.", ge=0.0, le=1.0)
    min_size: int = field(10, help="Objects smaller than this many pixels (of the network's grid, i.e. after "
                          "preprocess.resample_to) are removed; tuned on the validation images with the thresholds.",
                          ge=0, le=1_000_000, unit="px")
    tune: bool = field(True, help="Tune the thresholds on the validation images after training.", common=True)
    tta: bool = field(False, help="Average the network's output over the eight flips and quarter turns of each "
                      "image (smoother outlines; prediction takes eight times as long). Not for star_convex.")
    register_shift: bool = field(True, help="task: tracking: when tuning, shift the output by up to 2 px (in steps of "
                           "0.05 px) so the found cells line up with the true ones of the validation frames; the "
                           "shift is kept only when it raises their SEG. false: never shift.")


class TrackingSettings(Section):
    """How the cells found in each frame are linked into tracks (task: tracking)."""

    max_gap: int = field(2, help="Most frames in a row a cell may be missed and still keep its track (0: none).",
                         ge=0, le=20, common=True, unit="frames")
    divisions: bool = field(True, help="Look for divisions (a mother cell linked to two daughters).", common=True)
    search_radius: float | None = field(
        None, help="Farthest a cell may move between frames; empty: measured from the cells' own speed.",
        gt=0.0, le=100_000.0, unit="px")
    link_scorer: Literal["rules", "learned"] = field(
        "rules", help="How candidate links are scored: 'rules' (distance, overlap, size and brightness change) or "
        "'learned' (a small network trained on the ground-truth tracks of the training frames).")


class EvaluateSection(Section):
    """How the trained model is scored on the test images."""

    iou_thresholds: list[Annotated[float, Field(gt=0.0, le=1.0)]] = field(
        default_factory=lambda: [0.5, 0.6, 0.7, 0.8, 0.9],
        help="IoU thresholds (above 0, at most 1) at which instance matches are counted (average precision, F1).",
        min_length=1, max_length=100,
    )
    postprocess: PostProcess = field(default_factory=PostProcess, help="Thresholds for masks and instances.")
    split: Literal["test", "validation", "train"] = field("test", help="Which split to score.")
    tracking: TrackingSettings = field(default_factory=TrackingSettings,
                                       help="Linking cells between frames (task: tracking).")


class ReportSection(Section):
    """What goes into the report written at the end of a run."""

    enabled: bool = field(True, help="Write a report at the end of training.", common=True)
    formats: list[Literal["html", "pdf"]] = field(
        default_factory=lambda: ["html"], help="Report formats: a self-contained HTML page and/or a PDF."
    )
    worst_cases: int = field(4, help="Number of worst-scoring test images shown.", ge=0, le=50)
    examples: int = field(4, help="Number of example images shown per section.", ge=0, le=50)


class Author(Section):
    """A person credited for the model."""

    name: str = field(..., help="Full name.")
    affiliation: str | None = field(None, help="Institute or lab.")
    orcid: str | None = field(None, help="ORCID iD, e.g. 0000-0002-1825-0097.")


class ExportSection(Section):
    """Formats the trained model is exported to, and who gets credit."""

    formats: list[str] = field(
        default_factory=lambda: ["bundle"], help="Formats written at the end of training.", common=True
    )
    authors: list[Author] = field(default_factory=list, help="People credited for the model.")
    license: str = field("CC-BY-4.0", help="Licence of the exported model (SPDX identifier).")
    citation: str | None = field(None, help="How to cite this model (text or DOI).")
    tolerance: float = field(
        EXPORT_TOLERANCE, help="Largest allowed difference between the exported and the original model's outputs.",
        gt=0.0, le=1.0,
    )

    @field_validator("formats")
    @classmethod
    def _known_formats(cls, value: list[str]) -> list[str]:
        from builder.export_registry import format_names, unknown_format_message

        unknown = [name for name in value if name not in format_names()]
        if unknown:
            raise ValueError(unknown_format_message(unknown))
        return value

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> dict[str, Any]:
        from builder.export_registry import format_names

        schema = handler.resolve_ref_schema(handler(core_schema))
        formats = schema.setdefault("properties", {}).setdefault("formats", {})
        formats["items"] = {"enum": format_names(), "type": "string"}
        return schema
