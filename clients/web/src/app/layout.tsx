/** The document shell of every page. */
import type { Metadata } from "next";
import type { ReactNode } from "react";

import "./globals.css";

export const metadata: Metadata = {
  title: "Atoms chat",
  description: "Chat with the Atoms agent as yourself: it uses the Atoms MCP on your behalf.",
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
