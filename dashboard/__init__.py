"""DermaDesk Streamlit app: entry point (`app.py`) and shared UI components."""
