"""The benchmark report: Markdown table and chart from a pytest-benchmark JSON file."""
import json

from xpnet import bench_report
from xpnet.bench_report import main, markdown, merge


def _bench(case, device, impl, median, **info):
    return {"name": f"bench[{case}-{impl}]", "group": case,
            "extra_info": dict(case=case, device=device, impl=impl, **info),
            "stats": {"median": median}}


RESULTS = {
    "machine_info": {"cpu": {"brand_raw": "Test CPU", "count": 2}, "python_version": "3.11"},
    "commit_info": {"id": "0123456789abcdef"}, "datetime": "2026-11-22",
    "benchmarks": [
        _bench("im2col a", "cpu", "xpnet", 0.001),
        _bench("im2col a", "cpu", "book", 0.005),
        _bench("im2col a", "cpu", "torch", 0.002),
        _bench("train step m b100", "cpu", "xpnet", 0.05, images=100, peak_rss_mib=412.4),
        _bench("gradient n", "cpu", "xpnet", 0.02),
        _bench("gradient n", "cpu", "backprop", 0.0001),
    ],
}


def test_markdown_ratios():
    text = markdown(RESULTS)
    assert "Machine: Test CPU, 2 cores" in text and "0123456789" in text
    assert "| im2col a | cpu | xpnet | 1.00 ms | 5.00× | 2.00× |  |  |  |" in text
    assert "| im2col a | cpu | book | 5.00 ms |  | 0.40× |  |  |  |" in text
    assert "| train step m b100 | cpu | xpnet | 50.00 ms |  |  |  | 2000 | 412 MiB |" in text
    assert "| gradient n | cpu | xpnet | 20.00 ms |  |  | 200.00× |  |  |" in text


def test_a_report_without_book_rows_says_how_to_get_them():
    assert "No \"book\" rows" not in markdown(RESULTS)
    results = dict(RESULTS, benchmarks=[b for b in RESULTS["benchmarks"]
                                        if b["extra_info"]["impl"] != "book"])
    assert "No \"book\" rows: they time the book's own code, from a checkout of its repository " \
           "named with --book DIR." in markdown(results)


def test_whole_process_tables():
    """End to end: wall time, accuracy, ÷ PyTorch; coexistence: each order's median ÷ alone."""
    job = "end to end: default train.py job"
    results = dict(RESULTS, benchmarks=[
        _bench(job, "cpu", "xpnet", 12.0, table="end to end", test_accuracy=0.9612, epochs=15),
        _bench(job, "cpu", "torch", 24.0, table="end to end", test_accuracy=0.9655, epochs=15),
        _bench("coexistence deep_convnet b100", "cpu", "xpnet", 40.0, table="coexistence",
               never=[0.10, 0.14, 0.12], first=[0.13, 0.20, 0.15], after=[0.11, 0.12, 0.10])])
    lines = markdown(results).splitlines()
    assert "| cpu | xpnet | 15 | 12.00 s | 96.12% | 0.50× |" in lines
    assert "| cpu | torch | 15 | 24.00 s | 96.55% |  |" in lines
    assert "| never | 3 | 120.00 ms | 1.00× |" in lines
    assert "| first | 3 | 150.00 ms | 1.25× |" in lines
    assert "| after | 3 | 110.00 ms | 0.92× |" in lines
    assert not any(line.startswith("| end to end") or line.startswith("| coexistence")
                   for line in lines)  # not in the main table


def test_command_writes_table_and_chart(tmp_path):
    path = tmp_path / "results.json"
    path.write_text(json.dumps(RESULTS))
    assert main(["--json", str(path), "--out", str(tmp_path)]) == 0
    assert (tmp_path / "report.md").read_text().count("\n| ") == 2 + 6  # header, rule, 6 rows
    assert (tmp_path / "report.png").read_bytes()[:4] == b"\x89PNG"


def test_missing_results_and_missing_suite_are_one_line(tmp_path, capsys):
    assert main(["--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"xpnet-bench-report: error: no benchmark results at {tmp_path}/results.json: "
                   f"run the suite with --run (from the repository's root), or name a results "
                   f"file with --json"]
    assert main(["--run", "--bench", str(tmp_path / "nowhere"), "--out", str(tmp_path)]) == 1
    assert "the suite ships with xpnet's repository" in capsys.readouterr().err
    assert main(["--run", "--bench", str(tmp_path), "--book", str(tmp_path), "--out",
                 str(tmp_path)]) == 1
    assert capsys.readouterr().err.strip() == (
        f"xpnet-bench-report: error: --book {tmp_path}: not a checkout of the book's repository "
        f"(oreilly-japan/deep-learning-from-scratch): no common/util.py there")


def test_merge_keeps_each_benchmarks_median_run():
    runs = [{"benchmarks": [_bench("c", "cpu", "xpnet", m)]} for m in (0.3, 0.1, 0.2)]
    merged = merge(runs)["benchmarks"]
    assert len(merged) == 1 and merged[0]["stats"]["median"] == 0.2
    assert merged[0]["extra_info"]["run_medians"] == [0.1, 0.2, 0.3]


def test_merge_pools_per_process_lists():
    runs = [{"benchmarks": [_bench("c", "cpu", "xpnet", m, never=[m, m])]} for m in (0.3, 0.1)]
    assert sorted(merge(runs)["benchmarks"][0]["extra_info"]["never"]) == [0.1, 0.1, 0.3, 0.3]


def test_run_times_pytorch_in_processes_of_its_own(tmp_path, monkeypatch):
    """--run starts one pytest for PyTorch's rows and one for the rest, --repeat times each;
    --book names the book's checkout to them."""
    calls = []
    book = tmp_path / "book"
    (book / "common").mkdir(parents=True)
    (book / "common" / "util.py").write_text("")

    def fake_pytest(command, env):
        assert env["XPNET_BOOK_DIR"] == str(book)
        calls.append(command[command.index("-k") + 1])
        part = next(a for a in command if a.startswith("--benchmark-json="))[17:]
        impl = "xpnet" if calls[-1].endswith("(not torch)") else "torch"
        with open(part, "w") as f:
            json.dump(dict(RESULTS, benchmarks=[_bench("im2col a", "cpu", impl, len(calls))]), f)
        return 0
    monkeypatch.setattr(bench_report.subprocess, "call", fake_pytest)
    bench = tmp_path / "bench"
    bench.mkdir()
    assert main(["--run", "--repeat", "2", "--bench", str(bench), "--out", str(tmp_path),
                 "--book", str(book), "-k", "im2col"]) == 0
    assert calls == ["(im2col) and (not torch)", "(im2col) and (torch)"] * 2
    merged = json.loads((tmp_path / "results.json").read_text())["benchmarks"]
    assert len(merged) == 2  # one row each, from two runs each
    assert not list(tmp_path.glob("results.json.*"))  # the parts are gone
