"""More example requests of the product's own tools, for tool retrieval only.

The decision's exemplars (:mod:`app.policy.exemplars`) are few, since each costs routing-prompt
tokens. Retrieval reads examples from an index instead, where more cost nothing per request:
these give each tool a short request in each of the five languages, with the everyday verbs
and nouns people use for it ("Termin", "ficheiro", "créneau"), which share no letters with the
tools' English descriptions. None of them is a request of the product cases
(tests/assistant_cases), which measure them.
"""

from __future__ import annotations

RETRIEVAL_EXAMPLES: tuple[tuple[str, str], ...] = (
    # calendar_list
    ("Welche Termine habe ich am Mittwoch?", "calendar_list"),
    ("¿Qué citas tengo mañana en la agenda?", "calendar_list"),
    ("Qu'est-ce que j'ai dans mon agenda demain ?", "calendar_list"),
    ("Que compromissos tenho esta semana?", "calendar_list"),
    ("Do I have anything scheduled next Thursday?", "calendar_list"),
    # calendar_free_time
    ("Wann habe ich morgen eine freie Stunde?", "calendar_free_time"),
    ("Busca un hueco libre de una hora el lunes", "calendar_free_time"),
    ("Trouve-moi un créneau libre de 30 minutes vendredi", "calendar_free_time"),
    ("Quando estou livre na quarta à tarde?", "calendar_free_time"),
    ("When do I have two free hours this week?", "calendar_free_time"),
    # calendar_create
    ("Trag einen Termin beim Arzt am Montag um 10 ein", "calendar_create"),
    ("Erinnere mich morgen früh an die Bank", "calendar_create"),
    ("Apunta una cita con el médico el martes a las 9", "calendar_create"),
    ("Recuérdame llamar a mamá mañana a las 6", "calendar_create"),
    ("Ajoute un rendez-vous chez le dentiste jeudi à 14h", "calendar_create"),
    ("Agenda uma reunião com a Sofia amanhã às 11h", "calendar_create"),
    ("Lembra-me de pagar a renda no dia 1", "calendar_create"),
    ("Schedule a haircut on Saturday at 10am", "calendar_create"),
    # calendar_update
    ("Ändere den Ort vom Abendessen auf Lissabon", "calendar_update"),
    ("Cambia la reunión del jueves a las 5", "calendar_update"),
    ("Décale le rendez-vous de demain à 16h", "calendar_update"),
    ("Muda a reunião de sexta para as 15h", "calendar_update"),
    ("Change the location of tomorrow's meeting to room 4", "calendar_update"),
    # calendar_cancel
    ("Sag den Termin am Freitag ab", "calendar_cancel"),
    ("Cancela la cita del dentista", "calendar_cancel"),
    ("Supprime le rendez-vous de jeudi de mon agenda", "calendar_cancel"),
    ("Cancela a consulta de amanhã", "calendar_cancel"),
    ("Remove the Friday meeting from my calendar", "calendar_cancel"),
    # calendar_import
    ("Importiere die Termine aus ferien.ics", "calendar_import"),
    ("Importa los eventos del archivo clases.ics", "calendar_import"),
    ("Importe le fichier planning.ics dans mon agenda", "calendar_import"),
    ("Importa os eventos do ficheiro aulas.ics", "calendar_import"),
    # calendar_export
    ("Exportiere meinen Kalender als ics-Datei", "calendar_export"),
    ("Exporta mi calendario a un archivo", "calendar_export"),
    ("Exporte mon agenda dans un fichier ics", "calendar_export"),
    ("Export my calendar so I can open it in Outlook", "calendar_export"),
    # files_list
    ("Was liegt in meinem Ordner Fotos?", "files_list"),
    ("Enséñame los archivos de la carpeta descargas", "files_list"),
    ("Montre-moi le contenu du dossier Documents", "files_list"),
    ("Mostra o conteúdo da pasta Fotos", "files_list"),
    # files_find
    ("Wo ist meine Datei mit dem Mietvertrag?", "files_find"),
    ("Encuentra el archivo del contrato", "files_find"),
    ("Où est le fichier de mon CV ?", "files_find"),
    ("Encontra o ficheiro da fatura da luz", "files_find"),
    # files_read
    ("Lies mir die Datei einkauf.txt vor", "files_read"),
    ("Abre el archivo notas.txt y dime qué pone", "files_read"),
    ("Ouvre le fichier recette.txt", "files_read"),
    ("Lê o ficheiro lista.txt", "files_read"),
    # files_write
    ("Speichere eine Datei gruss.txt mit dem Text Hallo", "files_write"),
    ("Guarda un archivo saludo.txt que diga hola", "files_write"),
    ("Écris un fichier bonjour.txt avec le texte salut", "files_write"),
    ("Escreve um ficheiro ola.txt com o texto olá", "files_write"),
    # files_move
    ("Verschiebe bericht.pdf in den Ordner Archiv", "files_move"),
    ("Benenne die Datei alt.txt in neu.txt um", "files_move"),
    ("Mueve el archivo informe.pdf a la carpeta viejos", "files_move"),
    ("Renomme le fichier photo.jpg en plage.jpg", "files_move"),
    ("Move a fatura.pdf para a pasta contas", "files_move"),
    # files_copy
    ("Kopiere die Datei rechnung.pdf nach Backup", "files_copy"),
    ("Haz una copia de presupuesto.xlsx en la carpeta backup", "files_copy"),
    ("Copie le fichier budget.xlsx dans sauvegardes", "files_copy"),
    ("Faz uma cópia do ficheiro contrato.pdf", "files_copy"),
    # files_delete
    ("Lösch die Datei entwurf.docx", "files_delete"),
    ("Elimina el archivo borrador.txt", "files_delete"),
    ("Supprime le fichier brouillon.txt", "files_delete"),
    ("Apaga o ficheiro rascunho.txt", "files_delete"),
    ("Delete the file old-notes.txt", "files_delete"),
    # notes_create
    ("Schreib eine Notiz: Schlüssel liegt beim Nachbarn", "notes_create"),
    ("Apunta en una nota nueva: comprar pilas", "notes_create"),
    ("Note que le code du portail est 1234", "notes_create"),
    ("Anota numa nota nova: ligar ao canalizador", "notes_create"),
    # notes_read
    ("Zeig mir meine Notiz Rezepte", "notes_read"),
    ("Muéstrame la nota de la lista de regalos", "notes_read"),
    ("Montre-moi ma note sur les vacances", "notes_read"),
    ("Mostra-me a nota das receitas", "notes_read"),
    # notes_append
    ("Füge Milch zur Einkaufsliste hinzu", "notes_append"),
    ("Mete pan en mi nota de la compra", "notes_append"),
    ("Rajoute du lait dans ma note courses", "notes_append"),
    ("Acrescenta ovos à nota das compras", "notes_append"),
    # notes_edit
    ("Streich Eier von der Einkaufsliste", "notes_edit"),
    ("Quita la leche de la lista de la compra", "notes_edit"),
    ("Enlève le pain de la liste de courses", "notes_edit"),
    ("Tira o leite da lista de compras", "notes_edit"),
    ("Change 'Monday' to 'Tuesday' in the trip note", "notes_edit"),
    # notes_rename
    ("Nenne die Notiz Ideen in Projekte um", "notes_rename"),
    ("Cambia el título de la nota Viaje a Vacaciones", "notes_rename"),
    ("Renomme la note Idées en Projets", "notes_rename"),
    ("Muda o título da nota Ideias para Projetos", "notes_rename"),
    # notes_delete
    ("Lösch meine Notiz über das alte Auto", "notes_delete"),
    ("Borra la nota de la mudanza", "notes_delete"),
    ("Supprime ma note sur le déménagement", "notes_delete"),
    ("Elimina a nota da mudança", "notes_delete"),
    # notes_restore
    ("Hol die gelöschte Notiz Rezepte wieder aus dem Papierkorb", "notes_restore"),
    ("Recupera la nota que borré ayer", "notes_restore"),
    ("Restaure la note que j'ai supprimée", "notes_restore"),
    ("Recupera a nota que apaguei do lixo", "notes_restore"),
    # notes_list
    ("Zeig alle meine Notizen mit dem Schlagwort Arbeit", "notes_list"),
    ("¿Qué notas tengo?", "notes_list"),
    ("Affiche toutes mes notes", "notes_list"),
    ("Que notas tenho no lixo?", "notes_list"),
    # notes_tags
    ("Welche Schlagwörter benutze ich in meinen Notizen?", "notes_tags"),
    ("¿Cuáles son mis etiquetas?", "notes_tags"),
    ("Quelles étiquettes ai-je dans mes notes ?", "notes_tags"),
    ("Lista as etiquetas das notas", "notes_tags"),
    # notes_search
    ("Finde die Notiz, in der die WLAN-Daten stehen", "notes_search"),
    ("Busca en mis notas el número del fontanero", "notes_search"),
    ("Cherche dans mes notes le numéro du plombier", "notes_search"),
    ("Procura nas minhas notas o número do canalizador", "notes_search"),
)
