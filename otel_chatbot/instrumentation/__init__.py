"""Instrumentation of the libraries a chatbot service uses: FastAPI, httpx, aiohttp, botocore."""
