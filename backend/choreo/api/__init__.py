"""The service: `uvicorn main:app` (or `choreo serve`). A FastAPI app over durable jobs.

`settings` (environment / settings file), `store` (job records through SQLAlchemy: SQLite by default),
`jobs` (what a worker does for each kind of job: dance, regenerate, motion), `workers` (processes that load
the model once and take jobs from the store; a supervisor that restarts them and recovers their jobs),
`uploads` (the body-size cap and the song check at the boundary), `routes` (the /api/v1 endpoints),
`app` (assembly: routes, errors as JSON, the studio at /).
"""
