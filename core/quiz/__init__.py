"""Trainee quiz: knowledge questions generated from the knowledge base, graded with cited feedback."""
from core.quiz.grading import Grade, grade, is_correct
from core.quiz.questions import Citation, QuizQuestion, build_bank, draw

__all__ = ["Citation", "Grade", "QuizQuestion", "build_bank", "draw", "grade", "is_correct"]
