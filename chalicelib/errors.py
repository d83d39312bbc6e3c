"""The one error type services raise for input a caller must fix (mapped to a 4xx answer)."""


class BadRequest(ValueError):
    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code, self.status = code, status


class ServiceUnavailable(RuntimeError):
    """Storage could not complete the request after retries: answer 503, ask to retry."""
