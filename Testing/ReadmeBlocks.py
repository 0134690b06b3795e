#!/usr/bin/env python3
"""Runs the code blocks of README.md, so that the README cannot drift.

  ReadmeBlocks.py list README.md           one line per block: index, language, section
  ReadmeBlocks.py run README.md N BUILD    runs block N (exit 0 pass, 77 skipped, else fail)

Blocks are found by their fences (```python, ```sh), never by line numbers.
A block runs unless a rule below says why it cannot run inside a test; a
skipped block exits with 77, which CTest reports as "Skipped" (not passed).
python blocks that use paraview.simple run in pvpython, other python blocks
in python3, sh blocks in bash -e. Each runs in a fresh folder holding links to
the repository's Data/, Scripts/, Testing/ and to the build folder as build/,
so the README's relative paths work as written. The runnable blocks before it
in the same section run first, in the same folder: a block may read what an
earlier block of its section wrote (the h5py example reads samples.h5).
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

# (pattern in the block, reason it is not run). First match wins.
SKIP_RULES = [
    (r"Scripts/setup\.sh", "installs Debian packages and rebuilds from scratch; it is what CI itself runs (.ci/run)"),
    (r"\bOUT_DIR\b|\bFILE\.py\b", "has placeholders (OUT_DIR, FILE.py) to be replaced by the reader"),
    (r"\bmpiexec\b|\bpvserver\b", "starts MPI ranks or a server that waits for a client; TestDistributedPipeline and TestPvserverSession run these"),
    (r"=\s*\.\.\.", "a fragment with '...' placeholders"),
    (r"huggingface-cli", "downloads from the network"),
    (r"Testing/Fuzz/run\.sh", "builds the separate clang fuzz tree and fuzzes; Scripts/setup.sh test runs it after CTest"),
]


def blocks(readme):
    """[(language, section, code)] of the fenced blocks, in order."""
    result, section, language, code = [], "", None, []
    for line in open(readme, encoding="utf-8"):
        if language is None:
            heading = re.match(r"#+\s+(.*)", line)
            if heading:
                section = heading.group(1).strip()
            fence = re.match(r"```(\w+)\s*$", line)
            if fence:
                language, code = fence.group(1), []
        elif line.startswith("```"):
            result.append((language, section, "".join(code)))
            language = None
        else:
            code.append(line)
    return result


def skip_reason(language, code):
    if language not in ("python", "sh", "bash"):
        return "a %s block (only python and sh blocks are runnable)" % language
    for pattern, reason in SKIP_RULES:
        if re.search(pattern, code):
            return reason
    # A python block that neither imports nor loads anything continues another one.
    if language == "python" and not re.match(r"\s*(from|import)\s", code):
        return "a fragment that continues another block (uses its variables)"
    return None


def command_for(language, code, script):
    if language == "python":
        return ["pvpython" if re.search(r"\bparaview\b", code) else sys.executable, script]
    return ["bash", "-e", script]


def run(readme, index, build):
    all_blocks = blocks(readme)
    language, section, code = all_blocks[index]
    print("README block %d (%s, section '%s'):\n%s" % (index, language, section, code))
    reason = skip_reason(language, code)
    if reason:
        print("SKIPPED: " + reason)
        return 77
    source = os.path.dirname(os.path.abspath(readme))
    work = tempfile.mkdtemp(prefix="dualembed-readme-")
    try:
        for name in ("Data", "Scripts", "Testing", "Plugin"):
            os.symlink(os.path.join(source, name), os.path.join(work, name))
        os.symlink(os.path.abspath(build), os.path.join(work, "build"))
        earlier = [i for i in range(index) if all_blocks[i][1] == section
                   and skip_reason(all_blocks[i][0], all_blocks[i][2]) is None]
        for i in earlier + [index]:
            block_language, _, block_code = all_blocks[i]
            script = os.path.join(work, "block%d.%s" % (i, "py" if block_language == "python" else "sh"))
            with open(script, "w", encoding="utf-8") as f:
                f.write(block_code)
            completed = subprocess.run(command_for(block_language, block_code, script), cwd=work)
            print("block %d: exit status %d" % (i, completed.returncode))
            if completed.returncode != 0:
                return 1
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv):
    if len(argv) == 3 and argv[1] == "list":
        for i, (language, section, code) in enumerate(blocks(argv[2])):
            print("%d-%s-%s" % (i, language, re.sub(r"[^A-Za-z0-9]+", "_", section).strip("_")))
        return 0
    if len(argv) == 5 and argv[1] == "run":
        return run(argv[2], int(argv[3]), argv[4])
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
