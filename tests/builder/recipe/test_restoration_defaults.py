"""The shipped denoising recipes average the network output over the eight flips and quarter turns
(``evaluate.postprocess.tta``): it raised validation PSNR on every image of the real-data benchmark."""

from __future__ import annotations

import recipes
from builder.recipe import validate_file
from builder.tasks import get_task

RESTORATION = [recipes.EXAMPLES / "denoise.yaml", recipes.EXAMPLES / "denoise_n2v.yaml",
               recipes.TEMPLATES / "image_to_image.yaml"]


def test_denoising_examples_and_the_template_average_the_eight_views():
    for path in RESTORATION:
        recipe, problems = validate_file(path)
        assert recipe is not None, [p.format() for p in problems]
        assert recipe.evaluate.postprocess.tta, path.name
        assert get_task(recipe.task).orientation_free_output(recipe), path.name
