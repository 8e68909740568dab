"""The curated knowledge base and its cited chat: documents, index (Chroma + BM25), the chat
engine and its evaluation."""
