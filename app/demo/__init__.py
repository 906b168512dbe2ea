"""The demo: the whole job on the embedded Moodle sandbox, started as its own process.

Sits above every stage and below the CLI; nothing but the CLI, the tests and the benchmarks
import it.
"""
