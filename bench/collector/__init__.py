"""The collector throughput benchmark (bench/collector_throughput.py): payloads, generator, stand-ins."""
