"""The two styles: projector-sized text in "classroom", readable committed GIFs in "notebook".

Text height is measured from the rendered figure: every text matplotlib actually draws
(titles, tick labels, legends, annotations, the step counter) is recorded while the
figure is drawn, and its line box (``get_window_extent`` with the rotation set to 0) is
scaled to the width the picture is shown at.
"""

import os
import subprocess
import sys

import matplotlib
import matplotlib.pyplot as plt
import pytest
from matplotlib.text import Text

from kai_lib import animate, explore, figures, optimizers, run, surfaces, use_style
from kai_lib.pictures import styles
from kai_lib.studies import races

SHOWN_WIDTH = 1280  # px: a projector
CLASSROOM_MIN = 18.0  # px tall at SHOWN_WIDTH
GIF_MIN_WIDTH = 720  # px, committed GIFs
GIF_LEGEND_MIN = 11.0  # px tall, at the GIF's own size
GIF_MAX_BYTES = 400 * 1024
PNGS = [name for name, (filename, _) in figures.FIGURES.items() if filename.endswith(".png")]
RACES = list(races.RACES)


def drawn_texts(draw) -> list[tuple[Text, float, float]]:
    """Call ``draw()``; return every non-empty text drawn, with its height and width in px (unrotated)."""
    seen: list[Text] = []
    original = Text.draw

    def recording(self, renderer):
        original(self, renderer)
        if self.get_visible() and self.get_text().strip():
            seen.append((self, renderer))

    Text.draw = recording
    try:
        draw()
    finally:
        Text.draw = original
    out = []
    for text, renderer in seen:
        rotation = text.get_rotation()
        text.set_rotation(0)
        box = text.get_window_extent(renderer)
        text.set_rotation(rotation)
        out.append((text, box.height, text.get_window_extent(renderer)))
    return out


def measure_figure(fig) -> list[tuple[str, float]]:
    """(text, height in px when the figure is shown SHOWN_WIDTH px wide) for every drawn text."""
    texts = drawn_texts(fig.canvas.draw)
    scale = SHOWN_WIDTH / fig.bbox.width
    return [(t.get_text(), h * scale, box) for t, h, box in texts]


def race_frame(name: str, dpi: int | None = None):
    """One frame of the race ``name`` as python -m kai_lib.figures draws it: (animation, texts drawn)."""
    captured = {}

    def keep(anim, path, dpi=None):
        captured["anim"] = anim
        return path

    mp = pytest.MonkeyPatch()
    mp.setattr(figures, "save_gif", keep)
    mp.setattr(plt, "close", lambda *a, **k: None)
    try:
        figures.race_gif(name, "unused.gif")
    finally:
        mp.undo()
    anim = captured["anim"]
    dpi = dpi or styles.current().gif_dpi
    frames = anim.render_frames(dpi)
    texts = drawn_texts(lambda: next(frames))
    size = anim._fig.canvas.get_width_height(physical=True)
    frames.close()
    return anim, texts, size


def figure_made_by(name: str):
    """The matplotlib figure ``python -m kai_lib.figures --only name`` draws (kept open)."""
    captured = {}
    mp = pytest.MonkeyPatch()
    mp.setattr(figures, "_save", lambda fig, path: (styles.fit_titles(fig), captured.setdefault("fig", fig)))
    try:
        figures.FIGURES[name][1]("unused.png")
    finally:
        mp.undo()
    fig = captured["fig"]
    fig.set_dpi(figures.DPI)
    return fig


@pytest.fixture
def classroom():
    with styles.using("classroom") as style:
        yield style
    plt.close("all")


@pytest.fixture
def notebook():
    with styles.using("notebook") as style:
        yield style
    plt.close("all")


#: the smallest heights measured, by test (printed with -s at the end of the session)
SMALLEST: dict[str, float] = {}


@pytest.fixture(scope="module", autouse=True)
def print_smallest():
    yield
    if SMALLEST:
        print("\nsmallest text heights, px:", {k: round(v, 1) for k, v in sorted(SMALLEST.items())})


@pytest.mark.parametrize("name", PNGS)
def test_classroom_figure_text_is_18_px_on_a_projector(classroom, name):
    fig = figure_made_by(name)
    heights = measure_figure(fig)
    assert len(heights) >= 5, f"{name}: only {len(heights)} texts were drawn"
    text, smallest, _ = min(heights, key=lambda th: th[1])
    SMALLEST[f"classroom {name}"] = smallest
    assert smallest >= CLASSROOM_MIN, (f"{name}: the text {text!r} is {smallest:.1f} px tall shown "
                                       f"{SHOWN_WIDTH} px wide (at least {CLASSROOM_MIN})")
    for text, _, box in heights:  # and nothing is cut off at the figure's edge
        assert box.x0 >= -2 and box.x1 <= fig.bbox.width + 2, f"{name}: {text!r} runs off the figure's side"
        assert box.y0 >= -2 and box.y1 <= fig.bbox.height + 2, f"{name}: {text!r} runs off the figure's top/bottom"


@pytest.mark.parametrize("name", RACES)
def test_classroom_race_frame_text_is_18_px_on_a_projector(classroom, name):
    anim, texts, (width, _) = race_frame(name)
    heights = [(t.get_text(), h * SHOWN_WIDTH / width) for t, h, _ in texts]
    drawn = {t for t, _ in heights}
    assert any(t.startswith("step ") for t in drawn), "the step counter was not drawn"
    assert set(races.label(o, s) for o, s in races.RACES[name].settings.items()) <= drawn, "legend missing"
    text, smallest = min(heights, key=lambda th: th[1])
    SMALLEST[f"classroom {name} frame"] = smallest
    assert smallest >= CLASSROOM_MIN, f"{name}: {text!r} is {smallest:.1f} px tall shown {SHOWN_WIDTH} px wide"
    # at its own size, on the deck's 1280×720 screen, the GIF fits and its text is as big
    assert width <= 1280
    assert min(h for _, h, _ in texts) >= CLASSROOM_MIN


@pytest.mark.parametrize("name", RACES)
def test_notebook_race_gif_is_wide_legible_and_light(notebook, name, tmp_path):
    anim, texts, (width, height) = race_frame(name)
    assert width >= GIF_MIN_WIDTH, f"{name}: the GIF is {width} px wide (at least {GIF_MIN_WIDTH})"
    labels = {races.label(o, s) for o, s in races.RACES[name].settings.items()}
    legend = [h for t, h, _ in texts if t.get_text() in labels]
    assert len(legend) == len(labels)
    SMALLEST[f"notebook {name} legend"] = min(legend)
    assert min(legend) >= GIF_LEGEND_MIN, f"{name}: legend text {min(legend):.1f} px tall (at least 11)"
    path = figures.race_gif(name, tmp_path / f"{name}.gif")
    size = path.stat().st_size
    assert size <= GIF_MAX_BYTES, f"{name}: the GIF is {size // 1024} KiB (at most 400)"
    from PIL import Image

    with Image.open(path) as gif:
        assert gif.size == (width, height)


def test_the_committed_gifs_are_wide_and_light():
    from PIL import Image

    gifs = sorted((figures.Path(__file__).parent.parent / "figures").glob("*.gif"))
    assert gifs
    for path in gifs:
        with Image.open(path) as gif:
            assert gif.size[0] >= GIF_MIN_WIDTH, f"{path.name} is {gif.size[0]} px wide: run make figures"
        assert path.stat().st_size <= GIF_MAX_BYTES, f"{path.name} is {path.stat().st_size // 1024} KiB"


def test_use_style_switches_every_size_and_back():
    before = dict(matplotlib.rcParams)
    with styles.using("classroom") as style:
        assert styles.current() is style and style.name == "classroom"
        assert matplotlib.rcParams["font.size"] == style.rc["font.size"] > before["font.size"]
        anim = animate(surfaces.SADDLE, run(optimizers.SGD(lr=0.1), surfaces.SADDLE, steps=5))
        assert tuple(anim._fig.get_size_inches()) == style.animation_figsize
        assert anim.trails[""][0].get_linewidth() > 2.5
        plt.close(anim._fig)
        w = explore(optimizers.SGD, surfaces.SADDLE, steps=10)
        assert w.image.layout.width == f"{int(style.widget_figsize[0] * style.widget_dpi)}px"
    assert styles.current().name == "notebook"
    assert {k: matplotlib.rcParams[k] for k in styles._RC_KEYS} == {k: before[k] for k in styles._RC_KEYS}
    anim = animate(surfaces.SADDLE, run(optimizers.SGD(lr=0.1), surfaces.SADDLE, steps=5))
    assert tuple(anim._fig.get_size_inches()) == styles.STYLES["notebook"].animation_figsize
    plt.close(anim._fig)


def test_use_style_is_exported_and_rejects_unknown_names():
    assert use_style("notebook") is styles.STYLES["notebook"]
    with pytest.raises(ValueError, match="style must be 'notebook' or 'classroom', got 'projector'"):
        use_style("projector")
    with pytest.raises(ValueError, match="role must be one of"):
        styles.current().font("huge")


def test_fit_titles_wraps_a_long_title_but_not_its_maths(classroom):
    fig, axes = plt.subplots(1, 2, figsize=(6, 3))
    title = r"a title far too long for half of a six inch figure with $\eta \nabla J(\theta)$ in it"
    axes[0].set_title(title)
    styles.fit_titles(fig)
    wrapped = axes[0].get_title()
    assert "\n" in wrapped and wrapped.replace("\n", " ") == title
    assert r"$\eta \nabla J(\theta)$" in wrapped.splitlines()[-1] or "$" not in wrapped.split("\n")[0][:-1]
    for line in wrapped.splitlines():
        assert line.count("$") % 2 == 0, f"maths broken across lines: {wrapped!r}"


# --- the learner's settings and a bad KAI_LIB_STYLE (reliability, family 3.4 and 3.11) ------------

def test_switching_back_to_notebook_restores_the_learners_own_rcparams():
    import matplotlib as mpl

    from kai_lib.pictures import styles
    with mpl.rc_context():
        mpl.rcParams["font.size"] = 12
        styles.use_style("classroom")
        assert mpl.rcParams["font.size"] == 13
        styles.use_style("notebook")
        assert mpl.rcParams["font.size"] == 12


def test_a_style_cannot_be_changed_through_its_dicts():
    from kai_lib.pictures import styles
    with pytest.raises(TypeError):
        styles.use_style("notebook").rc["font.size"] = 30
    with pytest.raises(TypeError):
        styles.current().fonts["legend"] = 30
    assert styles.STYLES["notebook"].rc["font.size"] == 10


@pytest.mark.parametrize("bad", [["notebook"], None, 1, "Classroom"])
def test_use_style_refuses_bad_names_as_value_errors(bad):
    from kai_lib.pictures import styles
    with pytest.raises(ValueError, match="^style must be 'notebook' or 'classroom'"):
        styles.use_style(bad)


def test_a_bad_kai_lib_style_names_the_variable_and_the_allowed_values():
    import subprocess
    import sys
    env = {**os.environ, "KAI_LIB_STYLE": "Classroom"}
    done = subprocess.run([sys.executable, "-c", "import kai_lib"], env=env, capture_output=True, text=True)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        "ValueError: KAI_LIB_STYLE must be 'notebook' or 'classroom', got 'Classroom' (a str)")


@pytest.mark.parametrize("command", ["kai_lib.figures", "kai_lib.tools.nbtools", "kai_lib.tools.site",
                                     "kai_lib.tools.i18n", "kai_lib.tools.bench"])
def test_a_command_refuses_a_bad_style_variable_in_one_error_line(command):
    env = {**os.environ, "KAI_LIB_STYLE": "Classroom"}
    done = subprocess.run([sys.executable, "-m", command, "--help"], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2
    assert done.stderr == (f"python -m {command}: error: KAI_LIB_STYLE must be 'notebook' or 'classroom', "
                           "got 'Classroom' (a str)\n")
    assert done.stdout == ""


def test_a_notebook_importing_kai_lib_with_a_bad_style_variable_gets_the_error_itself():
    env = {**os.environ, "KAI_LIB_STYLE": "projector"}
    done = subprocess.run([sys.executable, "-c", "import kai_lib"], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == ("ValueError: KAI_LIB_STYLE must be 'notebook' or 'classroom', "
                                                    "got 'projector' (a str)")
