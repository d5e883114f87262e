"""The Starlette web app: webhooks, the SSE stream and small HTML pages."""
