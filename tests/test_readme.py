"""README says only what is true: its Python blocks run, their `prints:` comments come out,
its commands are the ones CI runs, and every option it names exists. The same holds for
the Korean quick start (README.ko.md) and for the pages under docs/ (measurements.md, a
dated history, names what the commands had then)."""
import os
import re
import subprocess
import sys

import pytest

from helpers import ROOT



def read(name):
    with open(os.path.join(ROOT, name), encoding="utf-8") as f:
        return f.read()


README = read("README.md")
KOREAN = read("README.ko.md")
DOCS = {name: read(os.path.join("docs", name)) for name in sorted(os.listdir(os.path.join(ROOT, "docs")))
        if name.endswith(".md") and name != "measurements.md"}
PAGES = {"README.md": README, "README.ko.md": KOREAN, **{"docs/" + n: t for n, t in DOCS.items()}}
PYTHON_BLOCKS = [block for text in PAGES.values()
                 for block in re.findall(r"```python\n(.*?)```", text, re.S)]


@pytest.mark.parametrize("block", PYTHON_BLOCKS,
                         ids=[f"block{i}" for i in range(len(PYTHON_BLOCKS))])
def test_python_blocks_run_and_print_what_they_say(block, tmp_path, data_dir):
    env = dict(os.environ, XPNET_DATA_DIR=data_dir, XPNET_CACHE_DIR=str(tmp_path / "cache"),
               XPNET_DEVICE="cpu")
    result = subprocess.run([sys.executable, "-c", block], capture_output=True, text=True,
                            cwd=tmp_path, env=env, timeout=600)
    assert result.returncode == 0, result.stderr
    position = 0
    for expected in re.findall(r"# prints: (.*)", block):
        found = result.stdout.find(expected.strip(), position)
        assert found >= 0, f"{expected!r} not printed (after position {position}):\n{result.stdout}"
        position = found + len(expected.strip())


@pytest.mark.parametrize("page", ["README.md", "README.ko.md"])
def test_the_quick_start_test_command_is_the_one_ci_runs(page):
    command = ("python3 -m venv .venv && .venv/bin/pip install -q '.[test]' && "
               ".venv/bin/python -m pytest -q")
    assert command in PAGES[page]
    assert command in read(os.path.join(".ci", "run"))
    assert ("python3 -m venv .venv && .venv/bin/pip install -q '.[plot]' && "
            ".venv/bin/python train.py") in PAGES[page]


def test_readme_is_a_first_page_and_links_only_to_what_exists():
    assert len(README.encode()) <= 12 * 1024, "README.md: at most 12 KB; details go under docs/"
    for page, text in PAGES.items():
        folder = os.path.dirname(os.path.join(ROOT, page))
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", text):
            assert os.path.exists(os.path.join(folder, target)), f"{page} links to {target}"


def test_every_option_named_exists():
    helps = ""
    for module in ("xpnet.cli.train", "xpnet.cli.gradcheck", "xpnet.bench_report", "xpnet.book",
                   "xpnet.doctor"):
        helps += subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True,
                                text=True, cwd=ROOT).stdout
    for script in ("book_speed.py", "compare_steps.py", "time_to_accuracy.py"):
        helps += subprocess.run([sys.executable, os.path.join("bench", script), "--help"],
                                capture_output=True, text=True, cwd=ROOT).stdout
    named = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]+)", "".join(PAGES.values())))
    named -= {"--benchmark-enable"}  # pytest-benchmark's, passed through by the report
    missing = sorted(option for option in named if option not in helps)
    assert not missing, f"README names options no command has: {missing}"


def test_the_mpi_example_is_the_tested_program():
    """docs/mpi.md's ```py block is, line for line, what tests/mpi_programs/own_loop.py runs."""
    block = re.search(r"```py\n(.*?)```", DOCS["mpi.md"], re.S).group(1)
    program = open(os.path.join(ROOT, "tests", "mpi_programs", "own_loop.py")).read()
    program = program.split("these lines are its lines):\n")[1].split("# (end of README")[0]

    def code(text):
        return [line.strip() for line in text.splitlines()
                if line.strip() and "(not in README)" not in line]
    assert code(block) == code(program)
