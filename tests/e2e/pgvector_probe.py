"""Open WebUI's own pgvector store, on its rendered database: run with the Open WebUI venv's Python
and the Open WebUI env. With USE_SLIM_DOCKER the client is created on first use (a RAG upload),
which the chat path never triggers, so this creates it the way that first use does, stores two
chunks and finds the nearer one. Prints the ids found, nearest first.
"""

from __future__ import annotations

import json

from open_webui.config import PGVECTOR_INITIALIZE_MAX_VECTOR_LENGTH as DIM
from open_webui.retrieval.vector.factory import get_vector_db_client


def unit(axis: int) -> list[float]:
    return [1.0 if i == axis else 0.0 for i in range(DIM)]


client = get_vector_db_client()
collection = "e2e-pgvector-probe"
# the items as Open WebUI's retrieval code passes them (dicts with VectorItem's fields)
client.insert(collection, [{"id": "near", "text": "near chunk", "vector": unit(0), "metadata": {"n": 1}},
                           {"id": "far", "text": "far chunk", "vector": unit(1), "metadata": {"n": 2}}])
found = client.search(collection, [[0.9, 0.1] + [0.0] * (DIM - 2)], limit=2)
client.delete_collection(collection)
print(json.dumps(found.ids[0]))
