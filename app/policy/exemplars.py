"""Short requests with the tool that does each, in several languages: exemplars of the product's
own tools.

They teach the 0.5B model what each tool is for where the tools' English descriptions alone do
not (a German "trag ... ein" is a new event, "streich ... von der Liste" an edit of a note).
They sit in the decision prompt's system message, whose KV state the prefix cache keeps, so
after the first request they cost nothing. None of them is a request of the product cases
(tests/assistant_cases): those measure the exemplars, they must not be copied into them.

``NO_TOOL`` marks requests no tool does: the model answers them in text.
"""

from __future__ import annotations

NO_TOOL = "none"

EXEMPLARS: tuple[tuple[str, str], ...] = (
    ("What's on my calendar on Friday?", "calendar_list"),
    ("O que tenho marcado para segunda?", "calendar_list"),
    ("Was steht diese Woche an?", "calendar_list"),
    ("Find me a free hour tomorrow afternoon", "calendar_free_time"),
    ("¿Cuándo tengo media hora libre el jueves?", "calendar_free_time"),
    ("Book a meeting with Tom on Tuesday at 10", "calendar_create"),
    ("Marca jantar com o Rui sábado às 20h", "calendar_create"),
    ("Leg mir einen Zahnarzttermin am 4. um 9 Uhr an", "calendar_create"),
    ("Rappelle-moi d'appeler le garage dans une heure", "calendar_create"),
    ("Pon gimnasio todos los lunes a las 7", "calendar_create"),
    ("Move the budget review to 4pm", "calendar_update"),
    ("Verschieb das Teammeeting auf Freitag", "calendar_update"),
    ("Le dîner avec Paul sera au restaurant Lapa", "calendar_update"),
    ("Call off tomorrow's gym session", "calendar_cancel"),
    ("Annule la réunion de lundi", "calendar_cancel"),
    ("Desmarca o jantar de sexta", "calendar_cancel"),
    ("Add the events from school.ics to my calendar", "calendar_import"),
    ("Guarda o meu calendário num ficheiro agenda.ics", "calendar_export"),
    ("What's in my Documents folder?", "files_list"),
    ("Zeig mir die Dateien im Ordner Rechnungen", "files_list"),
    ("Where is my CV file?", "files_find"),
    ("Busca los archivos pdf", "files_find"),
    ("Open notes.txt and tell me what it says", "files_read"),
    ("Lis le fichier contrat.txt", "files_read"),
    ("Save a file hello.txt that says hi", "files_write"),
    ("Move report.pdf into the old folder", "files_move"),
    ("Renomeia o ficheiro cv.pdf para cv-2026.pdf", "files_move"),
    ("Duplicate budget.xlsx into backups", "files_copy"),
    ("Throw away draft.docx", "files_delete"),
    ("Borra el archivo viejo.txt", "files_delete"),
    ("Make a note called Gift ideas: a book for Ana", "notes_create"),
    ("Notiere: Handwerker kommt am Dienstag", "notes_create"),
    ("Crée une note Vacances avec la liste des valises", "notes_create"),
    ("Show me my packing note", "notes_read"),
    ("Lee mi nota de la receta de paella", "notes_read"),
    ("Put oat milk on the groceries list", "notes_append"),
    ("Junta batatas à lista de compras", "notes_append"),
    ("Ajoute 'appeler maman' à ma note todo", "notes_append"),
    ("Take bread off the shopping list", "notes_edit"),
    ("Tag the garden note with outdoors", "notes_edit"),
    ("In der Notiz Umzug ersetze 'Mai' durch 'Juni'", "notes_edit"),
    ("Call the Ideas note Project ideas", "notes_rename"),
    ("Delete my old packing note", "notes_delete"),
    ("Apaga a nota das compras antigas", "notes_delete"),
    ("Bring back the note I deleted about the garden", "notes_restore"),
    ("Show my notes tagged work", "notes_list"),
    ("Welche Notizen habe ich?", "notes_list"),
    ("Which tags do my notes use?", "notes_tags"),
    ("Find my notes about the car insurance", "notes_search"),
    ("¿En qué nota apunté el código de la alarma?", "notes_search"),
    ("What is 12% of 80?", NO_TOOL),
    ("How do you say thank you in Italian?", NO_TOOL),
    ("Write me a short poem about rain", NO_TOOL),
    ("Wie spät ist es in Tokio?", NO_TOOL),
    ("Qual é a capital da Austrália?", NO_TOOL),
    ("Envoie un SMS à Julie", NO_TOOL),
    ("Order a pizza for tonight", NO_TOOL),
    ("Great, thank you very much", NO_TOOL),
)
