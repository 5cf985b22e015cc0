#!/usr/bin/env bash
# Mutation testing: change one thing at a time in a module (a bound, a comparison, a key name, a
# constant, a branch) and see whether its tests notice. A mutant that survives is a rule no test
# holds. Runs mutmut in a throw-away copy of the tree, so the working tree is never edited.
#
#   bash scripts/mutation.sh MODULE=TESTS ...
#   bash scripts/mutation.sh bus/codec.py=tests/bus/test_codec.py bus/redis_publisher.py=tests/bus
#
# TESTS is a test file or folder (several joined with commas). Prints each surviving mutant as a
# diff, then one summary line per module; exit status 0 when none survived, 1 otherwise. Record
# the survivors per module, or why one is equivalent, in docs/TESTING.md.
#
# mutmut 3 mutates the code inside functions and methods only: rules written as declarations
# (pydantic fields, module constants) are not mutated; docs/TESTING.md says how those are held.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
python="$root/.venv/bin/python"
mutmut_version="3.8.1"
if [[ $# -eq 0 ]]; then
    sed -n '2,14p' "$0" >&2
    exit 2
fi
if [[ "$("$python" -c 'import importlib.metadata as m; print(m.version("mutmut"))' 2>/dev/null)" != "$mutmut_version" ]]; then
    "$root/.venv/bin/pip" install -q "mutmut==$mutmut_version"
fi
status=0
summary=()
for spec in "$@"; do
    module="${spec%%=*}"
    tests="${spec#*=}"
    if [[ "$tests" == "$spec" || -z "$tests" ]]; then
        echo "mutation.sh: give the tests of $module as $module=TESTS" >&2
        exit 2
    fi
    work="$(mktemp -d -t crowdmap-mutation-XXXXXX)"
    # The tree as it is now (tracked and new files, not only what is committed).
    (cd "$root" && git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf -) | tar -C "$work" -xf -
    ln -s "$root/.venv" "$work/.venv"
    packages=()
    for dir in "$work"/*/; do
        name="$(basename "$dir")"
        [[ "$name" == "${module%%/*}" ]] || packages+=("\"$name\"")
    done
    # Tests find the evaluation data at ../shared from the tree mutmut runs them in ($work/mutants);
    # linked after the package list above, so mutmut never copies it.
    [[ -e "$root/../shared" ]] && ln -s "$(cd "$root/../shared" && pwd)" "$work/shared"
    selection=""
    IFS=',' read -ra test_paths <<<"$tests"
    for path in "${test_paths[@]}"; do selection+="\"$path\", "; done
    cat >>"$work/pyproject.toml" <<TOML

[tool.mutmut]
source_paths = ["${module%%/*}"]
only_mutate = ["$module"]
also_copy = [$(IFS=,; echo "${packages[*]}"), "pyproject.toml"]
pytest_add_cli_args_test_selection = [${selection%, }]
pytest_add_cli_args = ["-p", "no:cacheprovider", "-q"]
TOML
    echo "== $module (tests: $tests)" >&2
    (cd "$work" && env -u PYTHONPATH "$python" -m mutmut run >"$work/run.log" 2>&1) || {
        tail -20 "$work/run.log" >&2
        status=1
    }
    survivors="$(cd "$work" && env -u PYTHONPATH "$python" -m mutmut results 2>/dev/null | awk -F: '/: survived$/ {print $1}' | tr -d ' ')"
    killed="$(cd "$work" && env -u PYTHONPATH "$python" -m mutmut results --all true 2>/dev/null | grep -c ': killed$' || true)"
    for name in $survivors; do
        echo "-- surviving mutant $name"
        (cd "$work" && env -u PYTHONPATH "$python" -m mutmut show "$name")
    done
    count="$(echo "$survivors" | grep -c . || true)"
    summary+=("$module: $killed killed, $count survived")
    (( count == 0 )) || status=1
    rm -rf "$work"
done
printf '%s\n' "${summary[@]}"
exit "$status"
