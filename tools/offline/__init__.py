"""The offline engine: run the real program for a stack file with Pulumi's mock monitor."""
