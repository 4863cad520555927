"""The benchmark: ``python -m bench`` runs the pipeline (fetcher, ticketers, sender as separate
processes) against the Graph simulator and the local RabbitMQ, and prints one JSON object as
its last line. See docs/performance.md for what each figure means and the recorded runs."""
