"""Copy the latest results into the README's benchmark section, between its two markers."""

from pathlib import Path

START = "<!-- bench: latest results (written by bench/run.py) -->"
END = "<!-- bench: end of latest results -->"


def show_latest(readme: Path, table: str, plot_path: str) -> bool:
    """Replace what stands between the markers; False (and nothing written) when they are missing."""
    text = readme.read_text()
    if START not in text or END not in text:
        return False
    before, rest = text.split(START, 1)
    _, after = rest.split(END, 1)
    readme.write_text(f"{before}{START}\n{table.rstrip()}\n\n![Latency against concurrency]({plot_path})\n\n"
                      f"{END}{after}")
    return True
