"""An order service: a small container API of your own, run by ecsapi on ECS Fargate behind API
Gateway, and by ``make local`` on your machine (see ../README.md)."""
