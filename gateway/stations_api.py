"""REST routes through which card agents beside clerks' readers take card jobs (being built)."""

from fastapi import APIRouter

router = APIRouter()
